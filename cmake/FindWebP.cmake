# Finds libwebp with its mux and demux libraries (Debian's libwebp-dev ships
# no CMake package) and defines WebP::webp, WebP::webpmux, WebP::webpdemux.
find_path(WebP_INCLUDE_DIR webp/decode.h)
find_library(WebP_LIBRARY NAMES webp)
find_library(WebP_MUX_LIBRARY NAMES webpmux)
find_library(WebP_DEMUX_LIBRARY NAMES webpdemux)

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(WebP REQUIRED_VARS WebP_LIBRARY
  WebP_MUX_LIBRARY WebP_DEMUX_LIBRARY WebP_INCLUDE_DIR)

if(WebP_FOUND)
  foreach(lib webp webpmux webpdemux)
    if(lib STREQUAL "webp")
      set(path ${WebP_LIBRARY})
    elseif(lib STREQUAL "webpmux")
      set(path ${WebP_MUX_LIBRARY})
    else()
      set(path ${WebP_DEMUX_LIBRARY})
    endif()
    if(NOT TARGET WebP::${lib})
      add_library(WebP::${lib} UNKNOWN IMPORTED)
      set_target_properties(WebP::${lib} PROPERTIES
        IMPORTED_LOCATION ${path}
        INTERFACE_INCLUDE_DIRECTORIES ${WebP_INCLUDE_DIR})
    endif()
  endforeach()
endif()
mark_as_advanced(WebP_INCLUDE_DIR WebP_LIBRARY WebP_MUX_LIBRARY
                 WebP_DEMUX_LIBRARY)
