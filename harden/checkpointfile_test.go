package harden

import (
	"bytes"
	"encoding/gob"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/dataset"
)

// sampleCheckpoint is a checkpoint with every kind of array: a weight
// longer than one chunk, an empty one, values whose bits must survive
// (NaN, infinities, −0, a subnormal), and the optimizer's state with a
// parameter that has none yet.
func sampleCheckpoint(adam bool) *Checkpoint {
	rng := rand.New(rand.NewPCG(4, 5))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = rng.Float32()*2 - 1
		}
		return v
	}
	big := vec(chunkFloats + 3)
	big[0], big[1], big[2] = float32(math.NaN()), float32(math.Inf(-1)), float32(math.Copysign(0, -1))
	big[chunkFloats] = math.Float32frombits(1) // the smallest subnormal
	ck := &Checkpoint{Version: checkpointVersion, Config: Config{Recipe: Paper, Eps: 0.1, Batch: 16, Epochs: 3, Seed: 7},
		Pre: dataset.Preprocess{Scale: 1, Mean: []float32{0.5}, Std: []float32{0.25}}, StartSHA256: "s", DataSHA256: "d",
		Params: []string{"w", "b", "empty"}, Epoch: 2, BestEpoch: 1, Stopped: "",
		History: []Epoch{{Epoch: 0, ValClean: 0.5}, {Epoch: 1, TrainLoss: 1.5}, {Epoch: 2, Note: "n"}},
		Weights: map[string][]float32{"w": big, "b": vec(10), "empty": nil},
		Best:    map[string][]float32{"w": vec(chunkFloats + 3), "b": vec(10), "empty": nil}}
	if adam {
		ck.Adam = &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, T: []int{2, 2, 0},
			M: [][]float32{vec(chunkFloats + 3), vec(10), nil}, V: [][]float32{vec(chunkFloats + 3), vec(10), nil}}
	} else {
		ck.SGD = &SGDM{Momentum: 0.9, Velocity: [][]float32{vec(chunkFloats + 3), nil}}
	}
	return ck
}

// sameCheckpoint compares two checkpoints, floats by their bits (NaN
// included), a nil array as an empty one.
func sameCheckpoint(a, b *Checkpoint) bool {
	same := func(x, y []float32) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(y[i]) {
				return false
			}
		}
		return true
	}
	all := func(x, y [][]float32) bool {
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !same(x[i], y[i]) {
				return false
			}
		}
		return true
	}
	arrays := func(c *Checkpoint) (w, best, opt [][]float32) {
		for _, name := range c.Params {
			w, best = append(w, c.Weights[name]), append(best, c.Best[name])
		}
		if c.SGD != nil {
			opt = c.SGD.Velocity
		}
		if c.Adam != nil {
			opt = append(slices.Clone(c.Adam.M), c.Adam.V...)
		}
		return w, best, opt
	}
	rest := func(c *Checkpoint) Checkpoint {
		r := *c
		r.Weights, r.Best = nil, nil
		if c.SGD != nil {
			r.SGD = &SGDM{Momentum: c.SGD.Momentum, WeightDecay: c.SGD.WeightDecay}
		}
		if c.Adam != nil {
			o := *c.Adam
			o.M, o.V = nil, nil
			r.Adam = &o
		}
		return r
	}
	wa, ba, oa := arrays(a)
	wb, bb, ob := arrays(b)
	ra, rb := rest(a), rest(b)
	return all(wa, wb) && all(ba, bb) && all(oa, ob) && reflect.DeepEqual(ra, rb)
}

// TestCheckpointFile writes and reads back checkpoints of both optimizers,
// bit for bit, and reads a version 3 file (one gob message) as before.
func TestCheckpointFile(t *testing.T) {
	dir := t.TempDir()
	for _, adam := range []bool{true, false} {
		ck := sampleCheckpoint(adam)
		if err := ck.save(dir); err != nil {
			t.Fatal(err)
		}
		got, err := LoadCheckpoint(dir)
		if err != nil {
			t.Fatal(err)
		}
		if !sameCheckpoint(got, ck) {
			t.Errorf("adam %v: the checkpoint read back differs from the one written", adam)
		}
		fi, err := os.Stat(filepath.Join(dir, CheckpointFile))
		if err != nil {
			t.Fatal(err)
		}
		if floats := int64(4*(chunkFloats+3) + 40); adam && fi.Size() > 4*floats+4096 {
			t.Errorf("the file takes %d bytes for %d floats; want about 4 a float", fi.Size(), floats)
		}
	}
	old := sampleCheckpoint(true)
	old.Version = 3
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(old); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "v3.gob")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := LoadCheckpoint(path)
	if err != nil || !sameCheckpoint(got, old) {
		t.Errorf("a version 3 file: %v; want it read as written", err)
	}
}

// TestDamagedCheckpoint cuts a checkpoint short at many places and changes
// its listed lengths: each is a one-line error, never a panic, and nothing
// is allocated for lengths the file cannot hold.
func TestDamagedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	ck := sampleCheckpoint(true)
	if err := ck.save(dir); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "damaged.gob")
	for _, n := range []int{0, 1, 10, 100, 1000, len(data) / 3, len(data) / 2, len(data) - 5, len(data) - 1} {
		if err := os.WriteFile(path, data[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCheckpoint(path); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("cut at %d of %d bytes: error %v; want one line", n, len(data), err)
		}
	}
	for _, lens := range [][]int{{-1, 10, 0}, {1 << 40, 10, 0}, {chunkFloats + 4, 10, 0}, {chunkFloats + 3, 10}} {
		h := ckHead{Version: checkpointVersion, Params: ck.Params, WeightLens: lens, BestLens: []int{0, 0, 0}, SGD: &sgdHead{}}
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(&h); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCheckpoint(path); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("weights listed as %v: error %v; want one line", lens, err)
		}
	}
	// A header that lists one value fewer than its chunk holds.
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	h := ckHead{Version: checkpointVersion, Params: []string{"w"}, WeightLens: []int{1}, BestLens: []int{2}}
	if err := enc.Encode(&h); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := enc.Encode(make([]byte, 8)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCheckpoint(path); err == nil || !strings.Contains(err.Error(), "a chunk of 8 bytes for an array of 1 values") {
		t.Errorf("a chunk longer than its array: error %v; want it named", err)
	}
}

// FuzzCheckpoint reads fuzzed checkpoint files: an error or a checkpoint,
// never a panic.
func FuzzCheckpoint(f *testing.F) {
	dir := f.TempDir()
	small := &Checkpoint{Version: checkpointVersion, Params: []string{"w"}, Weights: map[string][]float32{"w": {1, 2}},
		Best: map[string][]float32{"w": {3, 4}}, Adam: &AdamW{T: []int{1}, M: [][]float32{{5, 6}}, V: [][]float32{{7, 8}}}}
	if err := small.save(dir); err != nil {
		f.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, CheckpointFile))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	var v3 bytes.Buffer
	small.Version = 3
	if err := gob.NewEncoder(&v3).Encode(small); err != nil {
		f.Fatal(err)
	}
	f.Add(v3.Bytes())
	path := filepath.Join(dir, "fuzzed.gob")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		ck, err := LoadCheckpoint(path)
		if err == nil && (ck.Weights == nil || ck.Best == nil) {
			t.Errorf("a checkpoint without weights was accepted: %+v", ck)
		}
	})
}
