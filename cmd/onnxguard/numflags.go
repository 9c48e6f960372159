package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// A span is the interval a numeric flag's values must lie in, written as
// errors show it.
type span struct {
	lo, hi         float64
	loOpen, hiOpen bool
}

var (
	unit        = span{0, 1, true, false}           // (0, 1]: budgets and step sizes in pixel space
	positive    = span{0, math.Inf(1), true, true}  // (0, ∞)
	nonNegative = span{0, math.Inf(1), false, true} // [0, ∞)
	anyFinite   = span{math.Inf(-1), math.Inf(1), true, true}
	openUnit    = span{0, 1, true, true} // (0, 1): fractions held out
)

func (s span) contains(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return false
	}
	return (v > s.lo || !s.loOpen && v == s.lo) && (v < s.hi || !s.hiOpen && v == s.hi)
}

func (s span) String() string {
	if s == anyFinite {
		return "a finite number"
	}
	l, r := "[", "]"
	if s.loOpen {
		l = "("
	}
	if s.hiOpen {
		r = ")"
	}
	hi := strconv.FormatFloat(s.hi, 'g', -1, 64)
	if math.IsInf(s.hi, 1) {
		hi = "∞"
	}
	return fmt.Sprintf("a finite number in %s%g, %s%s", l, s.lo, hi, r)
}

// checkFloat is nil when v lies in s, and otherwise the one-line error
// that names the flag.
func checkFloat(flag string, v float64, s span) error {
	if s.contains(v) {
		return nil
	}
	return fmt.Errorf("--%s %v: want %s", flag, v, s)
}

// floatFlag returns the value of a float flag, checked against s.
func floatFlag(c *cli.Context, name string, s span) (float64, error) {
	v := c.Float64(name)
	return v, checkFloat(name, v, s)
}

// float32Flag is floatFlag for a value kept as float32: one that rounds
// to 0 or to infinity there is refused too.
func float32Flag(c *cli.Context, name string, s span) (float32, error) {
	v, err := floatFlag(c, name, s)
	if err != nil {
		return 0, err
	}
	if f := float32(v); v != 0 && f == 0 || math.IsInf(float64(f), 0) {
		return 0, fmt.Errorf("--%s %v: out of float32 range", name, v)
	}
	return float32(v), nil
}

// setFloatFlag returns the value of a float flag whose zero means the
// library's default: 0 when the flag is not given, its value, checked
// against s, when it is.
func setFloatFlag(c *cli.Context, name string, s span) (float64, error) {
	if !c.IsSet(name) {
		return 0, nil
	}
	return floatFlag(c, name, s)
}

// intFlag returns the value of an integer flag, which must be at least min.
func intFlag(c *cli.Context, name string, min int) (int, error) {
	v := c.Int(name)
	if v < min {
		return v, fmt.Errorf("--%s %d: want %d or more", name, v, min)
	}
	return v, nil
}

// setIntFlag is intFlag for a flag whose zero means the library's
// default: 0 when not given, and at least min when given.
func setIntFlag(c *cli.Context, name string, min int) (int, error) {
	if !c.IsSet(name) {
		return 0, nil
	}
	return intFlag(c, name, min)
}

// floatList parses a comma-separated flag value, every entry a number in
// s; an empty entry (0.1,,0.2) is an error, not skipped.
func floatList(flag, value string, s span) ([]float64, error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	fields := strings.Split(value, ",")
	out := make([]float64, len(fields))
	for i, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" {
			return nil, fmt.Errorf("--%s %q: entry %d is empty; give comma-separated numbers such as 0.01,0.03", flag, value, i+1)
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("--%s %q: entry %d, %q, is not a number", flag, value, i+1, f)
		}
		if !s.contains(v) {
			return nil, fmt.Errorf("--%s %q: entry %d is %v; want %s", flag, value, i+1, v, s)
		}
		out[i] = v
	}
	return out, nil
}

// float32List is floatList for per-channel preprocessing values.
func float32List(flag, value string, s span) ([]float32, error) {
	v, err := floatList(flag, value, s)
	if v == nil || err != nil {
		return nil, err
	}
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
		if x != 0 && out[i] == 0 || math.IsInf(float64(out[i]), 0) {
			return nil, fmt.Errorf("--%s %q: entry %d, %v, is out of float32 range", flag, value, i+1, x)
		}
	}
	return out, nil
}

// nameList splits a comma-separated list of names; an empty entry is an
// error.
func nameList(flag, value string) ([]string, error) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	fields := strings.Split(value, ",")
	for i, f := range fields {
		if fields[i] = strings.TrimSpace(f); fields[i] == "" {
			return nil, fmt.Errorf("--%s %q: entry %d is empty", flag, value, i+1)
		}
	}
	return fields, nil
}
