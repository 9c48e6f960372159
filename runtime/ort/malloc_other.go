//go:build cgo && !linux

package ort

// fixMmapThreshold is glibc's concern (malloc_linux.go); elsewhere the
// system allocator is left as it is.
func fixMmapThreshold() {}
