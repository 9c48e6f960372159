package interp

import "unsafe"

// recycle gives the storage of t, a value or gradient the run no longer
// needs, back to the program's buffers, unless a tensor in live shares it:
// the shape operators and pass-through backward passes return views, so
// one array may back several values, and it is free only when the last of
// them dies. The caller removes t from live first, one tensor at a time, so
// storage shared by several dying tensors goes back once.
func (p *Program) recycle(t *Tensor, live ...[]*Tensor) {
	if t == nil || t.IsInt() || len(t.Data) == 0 {
		return
	}
	if !shared(t, live...) {
		p.buffers.Put(t.Data)
	}
}

// shared reports whether a tensor in live shares any of t's storage.
func shared(t *Tensor, live ...[]*Tensor) bool {
	for _, set := range live {
		for _, u := range set {
			if u != nil && overlaps(u.Data, t.Data) {
				return true
			}
		}
	}
	return false
}

// overlaps reports whether a and b share any element.
func overlaps(a, b []float32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	const size = unsafe.Sizeof(float32(0))
	a0, b0 := uintptr(unsafe.Pointer(unsafe.SliceData(a))), uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return a0 < b0+uintptr(len(b))*size && b0 < a0+uintptr(len(a))*size
}
