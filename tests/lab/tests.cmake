# The lab: the real agent in a qemu "Pi" (Debian kernel, dummy_hcd) driving
# real UEFI firmware in a second qemu. One lab is booted for the whole
# suite: lab.setup (FIXTURES_SETUP) boots it and leaves it running with its
# state in ${ZB_LAB_RUN}; every tests/lab/test_*.py that calls
# Lab.for_test() attaches to it (and leaves the server VM as it found it, or
# asks for its mode with lab.ensure_server()); lab.cleanup
# (FIXTURES_CLEANUP) stops it. Tests that boot a special lab of their own
# run before the shared one is booted. Each test alone also works: run
# without the fixture, Lab.for_test() boots a private lab and stops it.
set(ZB_LAB_RUN ${CMAKE_BINARY_DIR}/lab-run)
set(ZB_LAB_ENV "ZEROBMC=$<TARGET_FILE:zerobmc>;ZB_SOURCE=${CMAKE_SOURCE_DIR};ZB_BUILD=${CMAKE_BINARY_DIR};ZB_LAB_RUN=${ZB_LAB_RUN}")
# A cross build for arm64 boots an arm64 Pi (qemu-system-aarch64, Cortex-A53)
# running this build's agent; the server VM stays x86_64 OVMF. It runs the
# tests named in ZB_LAB_ARM64_TESTS (typing, virtual media and the arm64
# proof: the set CI runs; "all" for every lab test). armel has no lab.
if(CMAKE_CROSSCOMPILING)
	if(NOT CMAKE_SYSTEM_PROCESSOR STREQUAL "aarch64")
		return()
	endif()
	string(APPEND ZB_LAB_ENV ";ZB_LAB_ARCH=arm64")
	set(ZB_LAB_ARM64_TESTS "test_type;test_media;test_pi_arm64;test_privsep" CACHE STRING
	    "Lab tests of the arm64 cross build (\"all\" for every one)")
endif()

add_test(NAME lab.setup
	 COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/lab.py setup ${ZB_LAB_RUN})
# The suite's lab lives as long as the suite may run (its reaper stops it
# after ZB_LAB_LIFETIME seconds).
set_tests_properties(lab.setup PROPERTIES FIXTURES_SETUP lab LABELS lab
	RUN_SERIAL TRUE TIMEOUT 600
	ENVIRONMENT "${ZB_LAB_ENV};ZB_LAB_LIFETIME=3600")

file(GLOB ZB_LAB_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/test_*.py)
foreach(src ${ZB_LAB_TESTS})
	get_filename_component(name ${src} NAME_WE)
	if(CMAKE_CROSSCOMPILING AND NOT ZB_LAB_ARM64_TESTS STREQUAL "all"
	   AND NOT name IN_LIST ZB_LAB_ARM64_TESTS)
		continue()
	elseif(NOT CMAKE_CROSSCOMPILING AND name MATCHES "_arm64$")
		continue()
	endif()
	add_test(NAME lab.${name} COMMAND /usr/bin/python3 ${src})
	set_tests_properties(lab.${name} PROPERTIES LABELS lab RUN_SERIAL TRUE
		TIMEOUT 900 SKIP_RETURN_CODE 77 ENVIRONMENT "${ZB_LAB_ENV}")
	# Two reinstalls and two UEFI scripts: about a dozen server boots,
	# 11 minutes in the suite's lab on 2 shared cores.
	if(name STREQUAL "test_reinstall")
		set_tests_properties(lab.${name} PROPERTIES TIMEOUT 1800)
	endif()
	# Tests that attach with Lab.for_test() (themselves or through
	# labcase.py's class) share the suite's lab; others (booting a special
	# lab of their own) run before it is booted.
	file(READ ${src} body)
	string(REGEX MATCH "Lab\\.for_test\\(|labcase\\.LabMediaCase" uses_fixture
	       "${body}")
	set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${src})
	if(uses_fixture)
		set_tests_properties(lab.${name} PROPERTIES FIXTURES_REQUIRED lab)
	else()
		list(APPEND ZB_LAB_PRIVATE lab.${name})
	endif()
endforeach()
if(ZB_LAB_PRIVATE)
	set_tests_properties(lab.setup PROPERTIES DEPENDS "${ZB_LAB_PRIVATE}")
endif()

add_test(NAME lab.cleanup
	 COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/lab.py cleanup ${ZB_LAB_RUN})
set_tests_properties(lab.cleanup PROPERTIES FIXTURES_CLEANUP lab LABELS lab
	RUN_SERIAL TRUE TIMEOUT 120 ENVIRONMENT "${ZB_LAB_ENV}")
