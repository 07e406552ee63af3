# Warnings for the project's own targets (not for third-party headers).
function(supernova_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow=local
                                           -Wnon-virtual-dtor -Wno-missing-field-initializers)
  # GCC 12 reports false -Wrestrict positives in std::string concatenation at -O3 (GCC bug 105329).
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  if(SUPERNOVA_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
