package interp

import (
	"slices"
	"testing"
)

// TestEngineFixedBatch runs five samples through the fixed-batch-1 model
// as an Engine (five padded runs) and checks them against Run one at a time.
func TestEngineFixedBatch(t *testing.T) {
	p := loadProgram(t, "fmnist_cnn_b1_255")
	x := fashionSlice(t, 5)
	for i := range x.Data {
		x.Data[i] *= 255
	}
	got, shape, err := Engine{P: p}.Run(nil, x.Data, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shape, []int64{5, 10}) {
		t.Fatalf("shape %v, want [5 10]", shape)
	}
	per := x.Len() / 5
	for i := range 5 {
		outs, err := p.Run(&Tensor{Shape: []int{1, 1, 28, 28}, Data: x.Data[i*per : (i+1)*per]})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got[i*10:(i+1)*10], outs[0].Data) {
			t.Errorf("sample %d: Engine gave %v, Run %v", i, got[i*10:(i+1)*10], outs[0].Data)
		}
	}
	if _, _, err := (Engine{P: p}).Run(nil, x.Data[:700], 1); err == nil {
		t.Error("Engine accepted 700 values as one 28×28 sample")
	}
}
