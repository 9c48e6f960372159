package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"
)

// maxMemoryFlag bounds what a model may claim: a model whose declared or
// inferred tensors need more is refused before anything that size is
// allocated, by either engine (interp.Options.MaxMemory,
// ort.Options.MaxMemory).
var maxMemoryFlag = &cli.StringFlag{Name: "max-memory",
	Usage: "refuse a model whose tensors for one sample need more than `SIZE` (e.g. 512MiB, 16GiB; default half the physical memory)"}

// byteUnits are the suffixes --max-memory takes: binary with an i or
// alone (K, M, G, T), decimal with a B (KB, MB, GB, TB).
var byteUnits = map[string]float64{
	"": 1, "b": 1,
	"k": 1 << 10, "kib": 1 << 10, "kb": 1e3,
	"m": 1 << 20, "mib": 1 << 20, "mb": 1e6,
	"g": 1 << 30, "gib": 1 << 30, "gb": 1e9,
	"t": 1 << 40, "tib": 1 << 40, "tb": 1e12,
}

// parseBytes reads a size such as 512MiB, 1.5G or 1000000.
func parseBytes(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if i < 0 {
		i = len(s)
	}
	unit, ok := byteUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	v, err := strconv.ParseFloat(s[:i], 64)
	if !ok || err != nil {
		return 0, fmt.Errorf("%q is not a size; write e.g. 512MiB, 16GiB or a number of bytes", s)
	}
	b := v * unit
	if !(b >= 1) || b > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is out of range; give at least 1 byte and at most 4 EiB", s)
	}
	return int64(b), nil
}

// maxMemory reads --max-memory: 0 when it is not given, meaning each
// engine's default.
func maxMemory(c *cli.Context) (int64, error) {
	if !c.IsSet(maxMemoryFlag.Name) {
		return 0, nil
	}
	b, err := parseBytes(c.String(maxMemoryFlag.Name))
	if err != nil {
		return 0, fmt.Errorf("--%s: %w", maxMemoryFlag.Name, err)
	}
	return b, nil
}
