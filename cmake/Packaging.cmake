# Installation layout and the Debian package: `cpack -G DEB` in the build
# folder gives zerobmc_<version>_<arch>.deb with the binary, the systemd
# units (the agent, and the gadget early in boot), the zerobmc user
# (sysusers.d), a commented default /etc/zerobmc/zerobmc.conf (a
# conffile: an upgrade keeps local changes), the images and macros folders, the
# documentation and examples, and the library dependencies found by
# dpkg-shlibdeps.

set(ZB_MAINTAINER "zerobmc maintainers <maintainers@zerobmc.invalid>"
	CACHE STRING "Maintainer field of the Debian package")
set(ZB_DEB_ARCH "" CACHE STRING
	"Debian architecture of the package (empty: dpkg's, or arm64/armel when cross-compiling for aarch64/arm)")

# Files outside the prefix go to their fixed places: a package puts them
# there, and so does `cmake --install` (with DESTDIR for a staging root).
install(FILES ${CMAKE_SOURCE_DIR}/packaging/zerobmc.service
	${CMAKE_SOURCE_DIR}/packaging/zerobmc-gadget.service
	DESTINATION lib/systemd/system)
# The zerobmc user, for images unpacked without the package's scripts.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/zerobmc.sysusers
	DESTINATION lib/sysusers.d RENAME zerobmc.conf)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/zerobmc.conf.example
	DESTINATION /etc/zerobmc RENAME zerobmc.conf
	PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(DIRECTORY DESTINATION /etc/zerobmc/macros)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/zerobmc.bash-completion
	DESTINATION share/bash-completion/completions RENAME zerobmc)
install(DIRECTORY DESTINATION /var/lib/zerobmc/images)
if(EXISTS ${CMAKE_SOURCE_DIR}/README.md)
	install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION share/doc/zerobmc)
endif()
if(IS_DIRECTORY ${CMAKE_SOURCE_DIR}/docs)
	install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs DESTINATION share/doc/zerobmc
		FILES_MATCHING PATTERN "*.md")
endif()
install(DIRECTORY ${CMAKE_SOURCE_DIR}/ha-integration/examples
	DESTINATION share/doc/zerobmc)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME zerobmc)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${ZB_MAINTAINER})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
	"BMC for any PC: USB keyboard, virtual media and serial console over MQTT")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
	"Turns a board with a USB device port (a Raspberry Pi Zero) plugged into
a server into that server's management controller: it is the server's
keyboard, virtual CD-ROM or disk and serial console, driven over MQTT
from Home Assistant, Node-RED or mosquitto_pub, with BIOS macros, power
pins and Wake-on-LAN.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mosquitto-clients")
# Loaded with dlopen() for URL downloads (media_curl.h): shlibdeps cannot
# see it.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "libcurl3-gnutls")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
	${CMAKE_SOURCE_DIR}/packaging/deb/conffiles
	${CMAKE_SOURCE_DIR}/packaging/deb/postinst
	${CMAKE_SOURCE_DIR}/packaging/deb/prerm
	${CMAKE_SOURCE_DIR}/packaging/deb/postrm)
if(ZB_DEB_ARCH)
	set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${ZB_DEB_ARCH})
elseif(CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
	set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
elseif(CMAKE_CROSSCOMPILING AND CMAKE_SYSTEM_PROCESSOR MATCHES "^arm")
	set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE armel)
endif()
# The agent's package holds the default component only; the gateway's
# component is its own package (cmake/PackagingRedfish.cmake).
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};zerobmc;Unspecified;/")
# /etc and /var are not under the prefix on purpose.
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)
include(CPack)
if(TARGET zerobmc-redfish)
	include(${CMAKE_CURRENT_LIST_DIR}/PackagingRedfish.cmake)
endif()
