package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// progressBar draws one line of progress on a terminal, redrawn at most
// every redraw and always at the end.
type progressBar struct {
	mu          sync.Mutex
	w           io.Writer
	desc, note  string
	width       int
	start, last time.Time
	done, total int
	from        int // done when the clock started: a resumed run starts past 0
	drawn       bool
	now         func() time.Time
}

const (
	// redraw is the shortest time between two drawings of a bar.
	redraw = 100 * time.Millisecond
	// minRateTime is how long a bar runs before it shows a rate: the
	// first batch done after a few milliseconds would otherwise give
	// millions of samples a second.
	minRateTime = time.Second
)

// progress returns a progress callback drawing a bar on stderr when stderr
// is a terminal, and nil otherwise so pipelines get clean output; finish
// draws the bar a last time and ends its line.
func progress(desc string) (update func(done, total int), finish func()) {
	u, finish := progressNote(desc)
	if u == nil {
		return nil, finish
	}
	return func(done, total int) { u(done, total, "") }, finish
}

// progressNote is progress whose callback also sets a note shown after the
// description (a training loss, say).
func progressNote(desc string) (update func(done, total int, note string), finish func()) {
	fd := int(os.Stderr.Fd())
	if !term.IsTerminal(fd) {
		return nil, func() {}
	}
	width, _, err := term.GetSize(fd)
	if err != nil || width < 40 {
		width = 80
	}
	b := &progressBar{w: os.Stderr, desc: desc, width: width, now: time.Now}
	return b.update, b.finish
}

// update records progress and redraws the bar when it is due.
func (b *progressBar) update(done, total int, note string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if b.start.IsZero() {
		b.start, b.from = now, done
	}
	b.done, b.total, b.note = done, total, note
	if done < total && b.drawn && now.Sub(b.last) < redraw {
		return
	}
	b.last, b.drawn = now, true
	fmt.Fprint(b.w, "\r"+formatProgress(b.desc, b.note, done, total, b.from, now.Sub(b.start), b.width)+"\x1b[K")
}

// finish draws the bar in its final state and ends the line; a bar never
// drawn leaves no trace. It may be called more than once.
func (b *progressBar) finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.drawn {
		return
	}
	fmt.Fprint(b.w, "\r"+formatProgress(b.desc, b.note, b.done, b.total, b.from, b.now().Sub(b.start), b.width)+"\x1b[K\n")
	b.drawn, b.start = false, time.Time{}
}

// formatProgress writes a progress line of at most width characters:
//
//	audit  45% [=========>          ] 450/1000  120 samples/s  eta 5s
//
// The rate, of the samples done since the bar started at from, and the
// time left appear once the bar has run minRateTime; done is clamped to
// [0, total].
func formatProgress(desc, note string, done, total, from int, elapsed time.Duration, width int) string {
	done = max(0, min(done, total))
	from = max(0, min(from, done))
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	label := desc
	if note != "" {
		label += " " + note
	}
	tail := fmt.Sprintf(" %d/%d", done, total)
	if elapsed >= minRateTime && done > from {
		rate := float64(done-from) / elapsed.Seconds()
		tail += "  " + formatRate(rate) + " samples/s"
		if done < total {
			left := time.Duration(float64(total-done) / rate * float64(time.Second))
			tail += "  eta " + left.Round(time.Second).String()
		} else {
			tail += "  " + elapsed.Round(time.Second).String()
		}
	}
	pct := fmt.Sprintf(" %3d%% ", int(math.Floor(100*frac)))
	barWidth := width - 1 - len([]rune(label)) - len(pct) - len([]rune(tail)) - 2
	if barWidth < 10 {
		// a narrow terminal: shorten the label first
		keep := max(0, len([]rune(label))-(10-barWidth))
		label = string([]rune(label)[:keep])
		barWidth = 10
	}
	fill := int(math.Floor(frac * float64(barWidth)))
	bar := strings.Repeat("=", fill)
	if fill < barWidth {
		bar += ">" + strings.Repeat(" ", barWidth-fill-1)
	}
	return label + pct + "[" + bar + "]" + tail
}

// formatRate writes a rate with about three significant digits.
func formatRate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f", r)
	case r >= 10:
		return fmt.Sprintf("%.1f", r)
	}
	return fmt.Sprintf("%.2f", r)
}
