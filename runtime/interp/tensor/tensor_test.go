package tensor

import "testing"

func TestTensor(t *testing.T) {
	for i, test := range []struct {
		t          *Tensor
		len, rank  int
		str        string
		wantIsInts bool
	}{
		{NewFloat(), 1, 0, "float[]", false},
		{NewFloat(2, 3, 4), 24, 3, "float[2 3 4]", false},
		{NewFloat(5, 0), 0, 2, "float[5 0]", false},
		{NewInts([]int{3}, []int64{1, 2, 3}), 3, 1, "int[3]", true},
		{NewInts([]int{0}, nil), 0, 1, "int[0]", true},
	} {
		if got := test.t.Len(); got != test.len {
			t.Errorf("case %d: Len = %d, want %d", i, got, test.len)
		}
		if got := test.t.Rank(); got != test.rank {
			t.Errorf("case %d: Rank = %d, want %d", i, got, test.rank)
		}
		if got := test.t.String(); got != test.str {
			t.Errorf("case %d: String = %q, want %q", i, got, test.str)
		}
		if got := test.t.IsInt(); got != test.wantIsInts {
			t.Errorf("case %d: IsInt = %v, want %v", i, got, test.wantIsInts)
		}
		if !test.t.IsInt() && len(test.t.Data) != test.len {
			t.Errorf("case %d: %d floats, want %d", i, len(test.t.Data), test.len)
		}
	}
}
