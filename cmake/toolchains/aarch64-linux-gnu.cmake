# Cross-compiles Supernova for 64-bit ARM Linux (aarch64) on a Debian x86-64 host:
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake
# It expects Debian's cross compiler (crossbuild-essential-arm64), the arm64 -dev packages
# through multiarch (dpkg --add-architecture arm64; scripts/setup.sh --arm64 installs them all)
# and qemu-user. scripts/build_arm64.sh configures, builds and tests with it; docs/platforms.md
# says what that covers.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

# Multiarch: the arm64 libraries and their CMake and pkg-config files live in
# /usr/lib/aarch64-linux-gnu beside the host's, under the same root. The library architecture
# makes find_library and find_package look there (and never in x86_64-linux-gnu); no sysroot.
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# First the arm64 oneDNN and ONNX -dev packages that cannot sit beside their amd64 twins and that
# scripts/setup.sh --arm64 unpacks into a directory of their own, then the cross root.
set(CMAKE_FIND_ROOT_PATH /opt/supernova/arm64-overlay /usr/aarch64-linux-gnu)
# Programs that run during the build (protoc, grpc_cpp_plugin, pkg-config) are the host's;
# libraries, headers and package files come from the root path first, then the multiarch
# directories of / (BOTH: the cross toolchain's own root holds only libc and libstdc++).
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# pkg-config answers for arm64: its .pc files (the overlay's first), not the host's.
set(ENV{PKG_CONFIG_LIBDIR}
    "/opt/supernova/arm64-overlay/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# CTest (and gtest_discover_tests, which lists each test binary's cases at build time) run the
# arm64 programs through qemu's user-mode emulator. -L / : the arm64 loader and libc are those of
# multiarch (libc6:arm64, /lib/ld-linux-aarch64.so.1), the same build every arm64 library in
# /usr/lib/aarch64-linux-gnu was made against. Not the cross toolchain's root
# (/usr/aarch64-linux-gnu, libc6-arm64-cross, which the compiler links against): its loader is
# another glibc point release, and with multiarch's libc.so.6 found first the two disagree on
# their private interface, so that the first pthread_create hangs.
find_program(SUPERNOVA_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR ${SUPERNOVA_QEMU_AARCH64} -L /)
