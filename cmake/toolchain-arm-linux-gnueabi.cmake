# Cross build for armel (Raspberry Pi Zero / Zero W, ARM1176, ARMv6): Debian's
# armel is ARMv5TE with soft float, which the ARMv6 runs (armhf needs ARMv7).
# Built with gcc-arm-linux-gnueabi against armel packages unpacked into a
# sysroot (ZB_SYSROOT; scripts/cross armel prepares it):
#   cmake -B build-armel -DZB_SYSROOT=build-armel/sysroot \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-arm-linux-gnueabi.cmake
# The tests run under qemu-arm with the Pi Zero's CPU (arm1176), so an
# instruction newer than ARMv6 would fail them. See docs/CROSS.md.
set(ZB_TRIPLET arm-linux-gnueabi)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(ZB_QEMU_ARCH arm)
set(ZB_QEMU_CPU arm1176)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-multiarch.cmake)
