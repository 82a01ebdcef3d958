# The Debian package: `cpack -G DEB` in a build directory (or the target
# `package`) writes convcorr_VERSION_ARCH.deb from the install() rules of
# src/CMakeLists.txt, under /usr. tests/package/check.sh builds, inspects,
# lints and runs it (docs/architecture.md, "The Debian package").
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME convcorr)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
# The Maintainer field and the changelog's signature. The project has no
# address of its own: the default is a placeholder under the reserved
# .invalid domain, and whoever builds a package to hand out sets theirs:
# cmake -DCPACK_PACKAGE_CONTACT="Name <address>" ...
set(CPACK_PACKAGE_CONTACT "convcorr maintainers <maintainers@convcorr.invalid>"
    CACHE STRING "Maintainer of the Debian package: Name <address>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "image filter that convolves or correlates and shows the difference")
# Lines as in the control file (lintian wants them within 80 columns).
set(CPACK_PACKAGE_DESCRIPTION "\
convcorr applies a kernel to images either way, exactly: convolve (the
kernel mirrored) or correlate (what a CNN layer or OpenCV's filter2D
computes). compare writes both results, a heat map of their difference
and a side-by-side panel.

It reads and writes PNG, JPEG, TIFF, WebP and PNM, keeps ICC, EXIF and
XMP metadata, streams large images in bounded memory, and filters
folders in parallel, one file per core. The engine runs on AVX-512,
AVX2, SSE4 or scalar code, picked at run time.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION graphics)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from the libraries the binary links (dpkg-shlibdeps, dpkg-dev).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE
    GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
# What Debian policy asks of /usr/share beyond `cmake --install`: the
# manual page gzipped, the copyright file and a changelog.
set(CPACK_PRE_BUILD_SCRIPTS ${CMAKE_CURRENT_LIST_DIR}/deb/pre_build.cmake)
include(CPack)
