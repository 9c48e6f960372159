//go:build cgo && linux

package ort

/*
#include <malloc.h>
*/
import "C"

import "sync"

var mmapOnce sync.Once

// fixMmapThreshold pins glibc's mmap threshold at 1 MiB. Without ONNX
// Runtime's arena every tensor is a malloc, and glibc raises its threshold
// each time a large mmapped block is freed, up to 32 MiB: later tensors
// then come from the heap, which fragments and keeps growing from one
// gradient step to the next (EfficientNet-B0 at batch 16: 1.43, 1.50,
// 1.87 GB over three steps). Pinned, large tensors go back to the system
// when freed.
func fixMmapThreshold() {
	mmapOnce.Do(func() { C.mallopt(C.M_MMAP_THRESHOLD, 1<<20) })
}
