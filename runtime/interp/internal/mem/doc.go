// Package mem provides the interpreter's one pool of float storage,
// recycled from one run of a program to the next.
//
// A CNN allocates the same large activations, gradients and scratch on
// every run; fresh ones cost the kernel's page faults, the zeroing of
// every page and the garbage collector's work to free them. The executor
// (package interp) owns one Pool per program, marks each run (NextRun) and
// gives back (Put) the storage of values that died; the operators and the
// matrix multiply take their outputs and scratch from it (Get), and give
// scratch back when they are done. Storage that no run has taken for a
// few runs is let go, so a batch size seen once does not keep its
// storage for good.
package mem
