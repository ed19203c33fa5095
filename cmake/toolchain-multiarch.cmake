# Shared part of cmake/toolchain-<triplet>.cmake; not a toolchain file of
# its own. Debian's cross compiler (gcc-<triplet>) builds against the
# target's libraries found in one of two layouts:
#
# - multiarch, no sysroot: the :arm64 -dev packages installed side by side
#   with the host's (apt-get install libcjson-dev:arm64 ...), libraries in
#   /usr/lib/<triplet>, headers in /usr/include[/<triplet>];
# - a sysroot (ZB_SYSROOT, as a -D option or in the environment): Debian
#   packages of the target unpacked with dpkg -x. scripts/cross uses it for
#   armel, whose libraries cannot be installed next to the host's: multiarch
#   needs the same version of a library for both architectures, and
#   bookworm-security no longer builds armel.
#
# Either way only the target's folders are searched, and the unit tests run
# under qemu-user (CMAKE_CROSSCOMPILING_EMULATOR) with the CPU of the Pi.
if(NOT ZB_TRIPLET)
	message(FATAL_ERROR "include this from cmake/toolchain-<triplet>.cmake")
endif()

set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${ZB_TRIPLET}-gcc)
set(CMAKE_AR ${ZB_TRIPLET}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${ZB_TRIPLET}-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP ${ZB_TRIPLET}-strip CACHE FILEPATH "")
set(CMAKE_LIBRARY_ARCHITECTURE ${ZB_TRIPLET})

if(NOT ZB_SYSROOT AND DEFINED ENV{ZB_SYSROOT})
	set(ZB_SYSROOT "$ENV{ZB_SYSROOT}")
endif()
# try_compile() projects read this file again: hand them the sysroot.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ZB_SYSROOT)

# pkg-config (FindPkgConfig runs the host's) reads only the target's .pc
# files: PKG_CONFIG_LIBDIR replaces its default search path.
if(ZB_SYSROOT)
	set(CMAKE_SYSROOT ${ZB_SYSROOT})
	set(CMAKE_FIND_ROOT_PATH ${ZB_SYSROOT})
	set(ENV{PKG_CONFIG_SYSROOT_DIR} ${ZB_SYSROOT})
	set(ENV{PKG_CONFIG_LIBDIR}
	    "${ZB_SYSROOT}/usr/lib/${ZB_TRIPLET}/pkgconfig:${ZB_SYSROOT}/usr/share/pkgconfig")
else()
	set(ENV{PKG_CONFIG_LIBDIR}
	    "/usr/lib/${ZB_TRIPLET}/pkgconfig:/usr/share/pkgconfig")
	unset(ENV{PKG_CONFIG_SYSROOT_DIR})
	# Without a sysroot the host's own folders are on every search path:
	# find_library() must not settle for a host library in them. Only
	# <prefix>/lib/<triplet> remains.
	set(CMAKE_SYSTEM_IGNORE_PATH /usr/local/lib /usr/lib /lib /usr/lib64
	    /lib64 /usr/local/lib/${CMAKE_HOST_SYSTEM_PROCESSOR}-linux-gnu
	    /usr/lib/${CMAKE_HOST_SYSTEM_PROCESSOR}-linux-gnu
	    /lib/${CMAKE_HOST_SYSTEM_PROCESSOR}-linux-gnu)
endif()
unset(ENV{PKG_CONFIG_PATH})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
if(ZB_SYSROOT)
	set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
	set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
	set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
endif()

# qemu-user runs the target's programs for ctest (unit tests) and, through
# ZEROBMC_WRAPPER, for the integration tests. Multiarch needs no prefix:
# the program's loader (/lib/ld-linux-aarch64.so.1) and libraries are at
# their own paths on the host. A sysroot is given with -L, where qemu looks
# first. (Not -L /usr/<triplet>: that loader comes from libc6-<arch>-cross
# and would load the multiarch libc of another version.)
find_program(ZB_QEMU_USER NAMES qemu-${ZB_QEMU_ARCH}-static qemu-${ZB_QEMU_ARCH})
if(ZB_QEMU_USER)
	set(CMAKE_CROSSCOMPILING_EMULATOR ${ZB_QEMU_USER} -cpu ${ZB_QEMU_CPU})
	if(ZB_SYSROOT)
		list(APPEND CMAKE_CROSSCOMPILING_EMULATOR -L ${ZB_SYSROOT})
	endif()
endif()
