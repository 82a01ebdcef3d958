# Run by cpack (CPACK_PRE_BUILD_SCRIPTS, packaging/package.cmake) on the
# staged files before they are packed: what Debian policy asks of a
# package beyond what `cmake --install` writes, kept out of the install()
# rules so that an install by hand is left as it is.
#   - manual pages gzipped with -9n (no name or time stamp in the header);
#   - /usr/share/doc/convcorr/copyright, machine-readable (DEP-5);
#   - /usr/share/doc/convcorr/changelog.gz: the version has no Debian
#     revision, so the package is native and its changelog takes that name.
# The changelog's date is now, or SOURCE_DATE_EPOCH where it is set.
set(root ${CPACK_TEMPORARY_DIRECTORY}${CPACK_PACKAGING_INSTALL_PREFIX})
if(NOT IS_DIRECTORY ${root}/bin)
  message(FATAL_ERROR "pre_build.cmake: no staged files in ${root}")
endif()
set(doc ${root}/share/doc/${CPACK_PACKAGE_NAME})

function(gzip_file path)
  execute_process(COMMAND gzip -9nf ${path} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "pre_build.cmake: gzip ${path} failed: ${status}")
  endif()
endfunction()

file(GLOB pages ${root}/share/man/man*/*.[0-9])
if(NOT pages)
  message(FATAL_ERROR "pre_build.cmake: no manual page in ${root}/share/man")
endif()
foreach(page IN LISTS pages)
  gzip_file(${page})
endforeach()

file(COPY ${CMAKE_CURRENT_LIST_DIR}/copyright DESTINATION ${doc}
     FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

if(CPACK_DEBIAN_PACKAGE_MAINTAINER)
  set(maintainer ${CPACK_DEBIAN_PACKAGE_MAINTAINER})
else()
  set(maintainer ${CPACK_PACKAGE_CONTACT})
endif()
string(TIMESTAMP date "%a, %d %b %Y %H:%M:%S +0000" UTC)
file(WRITE ${doc}/changelog "\
${CPACK_PACKAGE_NAME} (${CPACK_PACKAGE_VERSION}) unstable; urgency=medium

  * convcorr ${CPACK_PACKAGE_VERSION}, packaged by CPack from the upstream
    sources (cpack -G DEB).

 -- ${maintainer}  ${date}
")
gzip_file(${doc}/changelog)
file(CHMOD ${doc}/changelog.gz
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
