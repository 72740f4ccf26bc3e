#ifndef COPENBLAS_SHIM_H
#define COPENBLAS_SHIM_H
/* Resolves to .../openblas-pthread/cblas.h through pkg-config's -I. We link libopenblas, not
   libblas: the libblas wrapper lacks openblas_set_num_threads and changes with other BLAS installs. */
#include <cblas.h>
#endif
