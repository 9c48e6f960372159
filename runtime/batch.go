package runtime

// Batches feeds n samples of per values each to a model that takes batches
// of exactly fixed samples, or of any size where fixed ≤ 0 (then one batch
// of all n). For each batch, fill writes its k samples, from sample first
// on, into dst (k·per values); Batches zeroes the rest of the batch and
// calls run with it, whose outputs past the k-th sample are the padding's.
// The batches live in buf, grown where too small; Batches returns it for
// the next call.
func Batches(buf []float32, n, fixed, per int, fill func(dst []float32, first, k int), run func(batch []float32, first, k int) error) ([]float32, error) {
	b := n
	if fixed > 0 {
		b = fixed
	}
	if cap(buf) < b*per {
		buf = make([]float32, b*per)
	}
	batch := buf[:b*per]
	for first := 0; first < n; first += b {
		k := min(b, n-first)
		fill(batch[:k*per], first, k)
		clear(batch[k*per:])
		if err := run(batch, first, k); err != nil {
			return buf, err
		}
	}
	return buf, nil
}
