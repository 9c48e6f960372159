//go:build !linux

package interp

// physicalMemory returns 0: unknown outside Linux, so the default budget
// falls back to a fixed size.
func physicalMemory() int64 { return 0 }
