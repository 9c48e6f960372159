package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestFormatProgress(t *testing.T) {
	for _, test := range []struct {
		done, total int
		elapsed     time.Duration
		want        []string // substrings
		not         []string
	}{
		// The first batch after 3 ms: no rate, however fast it looks.
		{64, 10000, 3 * time.Millisecond, []string{"  0% [", " 64/10000"}, []string{"samples/s", "eta"}},
		{5000, 10000, 2 * time.Second, []string{" 50% [", "5000/10000", "2500 samples/s", "eta 2s"}, nil},
		{10000, 10000, 4 * time.Second, []string{"100% [", "10000/10000", "2500 samples/s", "4s"}, []string{"eta", ">"}},
		{12, 10, 2 * time.Second, []string{"100% [", " 10/10"}, nil}, // clamped
		{3, 7, 90 * time.Second, []string{" 42% [", "0.03 samples/s", "eta 2m0s"}, nil},
		{0, 0, 0, []string{"100% ["}, nil},
	} {
		got := formatProgress("audit", "", test.done, test.total, 0, test.elapsed, 80)
		if n := len([]rune(got)); n > 79 {
			t.Errorf("%d/%d: %d characters, want at most 79: %q", test.done, test.total, n, got)
		}
		for _, w := range test.want {
			if !strings.Contains(got, w) {
				t.Errorf("%d/%d after %v: %q does not contain %q", test.done, test.total, test.elapsed, got, w)
			}
		}
		for _, w := range test.not {
			if strings.Contains(got, w) {
				t.Errorf("%d/%d after %v: %q contains %q", test.done, test.total, test.elapsed, got, w)
			}
		}
	}
	// A resumed run: half done when the bar starts, 1000 more in 2 s.
	if got := formatProgress("harden", "", 6000, 10000, 5000, 2*time.Second, 80); !strings.Contains(got, " 500 samples/s") || !strings.Contains(got, "eta 8s") {
		t.Errorf("resumed: %q, want the rate of the samples done since the start, 500 samples/s", got)
	}
	narrow := formatProgress("harden epoch 1/5 loss 0.1234 acc 93.50%", "", 1, 2, 0, 0, 40)
	if n := len([]rune(narrow)); n > 39 || !strings.Contains(narrow, " 50% [") {
		t.Errorf("narrow terminal: %q (%d characters)", narrow, n)
	}
}

// TestProgressBarFinishes checks that updates are throttled and that the
// bar ends drawn at 100%, whatever the throttle skipped.
func TestProgressBarFinishes(t *testing.T) {
	var buf bytes.Buffer
	now := time.Unix(0, 0)
	b := &progressBar{w: &buf, desc: "eval", width: 80, now: func() time.Time { return now }}
	for done := 100; done <= 1000; done += 100 {
		now = now.Add(10 * time.Millisecond)
		b.update(done, 1000, "")
	}
	b.finish()
	b.finish()
	draws := strings.Split(buf.String(), "\r")[1:]
	if len(draws) != 3 { // the first update, the last (done == total), finish
		t.Errorf("%d drawings, want 3: %q", len(draws), draws)
	}
	last := draws[len(draws)-1]
	if !strings.Contains(last, "100% [") || !strings.HasSuffix(last, "\n") {
		t.Errorf("last drawing %q, want the bar at 100%% ending its line", last)
	}
	var none bytes.Buffer
	(&progressBar{w: &none, now: time.Now}).finish()
	if none.Len() != 0 {
		t.Errorf("a bar never updated drew %q", none.String())
	}
}
