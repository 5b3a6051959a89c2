# cmake -DDIR=<dir> -DMODE=fresh|check -P scratch_dir.cmake
#
# The suite's scratch directory (TMPDIR of every test, see CMakeLists.txt):
# `fresh` empties it before the first test; `check`, after the last, fails
# naming whatever a test left behind, and leaves it there to be looked at
# (a failed test may keep its directory on purpose) until the next `fresh`.
if(NOT DIR OR NOT MODE MATCHES "^(fresh|check)$")
  message(FATAL_ERROR "usage: cmake -DDIR=<dir> -DMODE=fresh|check -P scratch_dir.cmake")
endif()
if(MODE STREQUAL "fresh")
  file(REMOVE_RECURSE ${DIR})
  file(MAKE_DIRECTORY ${DIR})
  return()
endif()
file(GLOB left RELATIVE ${DIR} ${DIR}/* ${DIR}/.*)
if(left)
  list(JOIN left "\n  " names)
  message(FATAL_ERROR "tests left files in their scratch directory ${DIR}:\n  ${names}")
endif()
