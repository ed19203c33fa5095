# Cross build for arm64 (Raspberry Pi Zero 2 W, Cortex-A53) with Debian's
# gcc-aarch64-linux-gnu and the :arm64 -dev packages (multiarch):
#   cmake -B build-arm64 \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-aarch64-linux-gnu.cmake
# scripts/cross arm64 installs all of it, builds and tests. See docs/CROSS.md.
set(ZB_TRIPLET aarch64-linux-gnu)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(ZB_QEMU_ARCH aarch64)
set(ZB_QEMU_CPU cortex-a53)
include(${CMAKE_CURRENT_LIST_DIR}/toolchain-multiarch.cmake)
