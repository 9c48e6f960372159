package dataset

import (
	"path/filepath"
	"testing"
)

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	images, _ := mnistLike(2, 2, 2)
	idx := writeFile(t, filepath.Join(dir, "images-idx3-ubyte"), images)
	csv := writeFile(t, filepath.Join(dir, "data.csv"), []byte("1,2,3"))
	for _, test := range []struct {
		name string
		path string
		opt  *Options
		says []string
	}{
		{"missing", filepath.Join(dir, "nope.npy"), nil, []string{"nope.npy", "no such file"}},
		{"unknown format", csv, nil, []string{"data.csv: unknown format", "IDX file", ".npy"}},
		{"negative limit", idx, &Options{Limit: -1}, []string{"Limit is -1"}},
		{"shard without shards", idx, &Options{Shard: 1}, []string{"Shard is 1 but Shards is 0"}},
		{"shard out of range", idx, &Options{Shard: 3, Shards: 3}, []string{"Shard is 3; want 0 to 2 for 3 shards"}},
		{"negative shards", idx, &Options{Shards: -2}, []string{"Shards is -2"}},
		{"negative size", idx, &Options{Height: -1}, []string{"image size -1x0"}},
		{"labels for a folder", dir, &Options{Labels: idx}, []string{"separate labels file applies to IDX and .npy"}},
	} {
		_, err := Open(test.path, test.opt)
		wantError(t, test.name, err, test.says...)
	}
}

func TestNextReusesBatch(t *testing.T) {
	dir := t.TempDir()
	images, labels := mnistLike(10, 3, 3)
	path := writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte"), images)
	writeFile(t, filepath.Join(dir, "train-labels-idx1-ubyte"), labels)
	src, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	b := Batch{X: make([]float32, 100), Labels: make([]int, 10)}
	x, l := &b.X[0], &b.Labels[0]
	for range 3 {
		if err := src.Next(&b, 3); err != nil {
			t.Fatal(err)
		}
		if &b.X[0] != x || &b.Labels[0] != l {
			t.Errorf("batch at %d: Next allocated though dst was large enough", b.Start)
		}
	}
	wantError(t, "batch size 0", src.Next(&b, 0), "batch size 0; want at least 1")
}
