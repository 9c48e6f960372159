//go:build !linux

package team

// yieldThread does nothing where there is no portable way to give the
// core to another thread: runtime.Gosched in yield still lets this
// process's goroutines run.
func yieldThread() {}
