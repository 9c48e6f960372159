package fgsm

import (
	"fmt"
	"math"
	"strings"
)

// Method names an attack.
type Method string

// The attacks; see the package documentation.
const (
	FGSM   Method = "fgsm"
	BIM    Method = "bim"
	PGD    Method = "pgd"
	MIFGSM Method = "mifgsm"
)

// Methods lists the attacks in the order reports show them.
var Methods = []Method{FGSM, BIM, PGD, MIFGSM}

// ParseMethod reads an attack name, case-insensitively.
func ParseMethod(s string) (Method, error) {
	m := Method(strings.ToLower(strings.TrimSpace(s)))
	for _, k := range Methods {
		if m == k {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown attack %q: choose fgsm, bim, pgd or mifgsm", s)
}

// Target says which class a targeted attack pushes each sample toward.
type Target struct {
	// Mode is "" (untargeted), "class" (Class for every sample), "next"
	// (label+1 modulo the number of classes) or "random" (a class other
	// than the label, drawn from the seed and the sample's index).
	Mode  string `json:"mode,omitempty"`
	Class int    `json:"class,omitempty"`
}

// ParseTarget reads "next", "random" or a class number; "" is untargeted.
func ParseTarget(s string) (Target, error) {
	switch s = strings.TrimSpace(s); s {
	case "":
		return Target{}, nil
	case "next", "random":
		return Target{Mode: s}, nil
	}
	var c int
	if _, err := fmt.Sscanf(s, "%d", &c); err != nil || fmt.Sprint(c) != s || c < 0 {
		return Target{}, fmt.Errorf("target %q: give next, random or a class number", s)
	}
	return Target{Mode: "class", Class: c}, nil
}

func (t Target) String() string {
	switch t.Mode {
	case "":
		return "untargeted"
	case "class":
		return fmt.Sprintf("class %d", t.Class)
	}
	return t.Mode
}

// Config is one attack's settings. Zero values take the defaults that
// Normalize documents.
type Config struct {
	Method      Method  `json:"attack"`
	Eps         float64 `json:"eps"`             // L∞ budget in pixel space [0,1]
	Alpha       float64 `json:"alpha,omitempty"` // step size of the iterative attacks
	Steps       int     `json:"steps,omitempty"`
	RandomStart bool    `json:"random_start,omitempty"`
	Restarts    int     `json:"restarts,omitempty"` // PGD runs per sample, the worst kept; 0 means 1
	Momentum    float64 `json:"momentum,omitempty"` // MI-FGSM's decay μ
	Target      Target  `json:"target,omitzero"`
}

// Family is c with its budget taken out (Eps zero, Alpha a fraction of
// ε): the key under which the same attack at several budgets is grouped,
// as reports plot it and the sanity checks compare it. The fraction is
// rounded to 9 digits, so that α = 2.5·ε/K gives one key whatever ε's
// float rounding.
func (c Config) Family() Config {
	if c.Eps != 0 {
		c.Alpha = math.Round(c.Alpha/c.Eps*1e9) / 1e9
	}
	c.Eps = 0
	return c
}

// Normalize fills in defaults and checks the settings:
//
//   - FGSM takes one step of size ε; Alpha, Steps, RandomStart and
//     Restarts must be unset.
//   - BIM, PGD and MI-FGSM take 10 steps by default. BIM and MI-FGSM step
//     α = ε/steps by default, PGD α = 2.5·ε/steps (Madry et al.).
//   - RandomStart is left as the caller set it (the CLI turns it on for
//     PGD unless told otherwise); restarts need it.
//   - MI-FGSM's momentum defaults to 1.0.
func (c Config) Normalize() (Config, error) {
	if !(c.Eps > 0 && c.Eps <= 1) {
		return c, fmt.Errorf("%s: eps %g must be in (0, 1]; it is an L∞ radius in pixel space [0,1]", c.Method, c.Eps)
	}
	if !finite(c.Alpha) || !finite(c.Momentum) {
		return c, fmt.Errorf("%s: alpha %g and momentum %g must be finite", c.Method, c.Alpha, c.Momentum)
	}
	if c.Target.Mode == "class" && c.Target.Class < 0 {
		return c, fmt.Errorf("%s: target class %d is negative", c.Method, c.Target.Class)
	}
	switch c.Method {
	case FGSM:
		if c.Steps > 1 || c.RandomStart || c.Restarts > 1 {
			return c, fmt.Errorf("fgsm is a single step from the clean image; use bim or pgd for steps, random starts and restarts")
		}
		c.Alpha, c.Steps, c.Restarts = c.Eps, 1, 1
		return c, nil
	case BIM, PGD, MIFGSM:
	default:
		return c, fmt.Errorf("unknown attack %q: choose fgsm, bim, pgd or mifgsm", c.Method)
	}
	if c.Steps < 0 || c.Alpha < 0 || c.Restarts < 0 || c.Momentum < 0 {
		return c, fmt.Errorf("%s: steps, alpha, restarts and momentum must not be negative", c.Method)
	}
	if c.Steps == 0 {
		c.Steps = 10
	}
	if c.Alpha == 0 {
		c.Alpha = c.Eps / float64(c.Steps)
		if c.Method == PGD {
			c.Alpha *= 2.5
		}
	}
	if c.Restarts == 0 {
		c.Restarts = 1
	}
	if c.Restarts > 1 && !c.RandomStart {
		return c, fmt.Errorf("%s: %d restarts without a random start would repeat the same attack; add a random start", c.Method, c.Restarts)
	}
	if c.Method == MIFGSM && c.Momentum == 0 {
		c.Momentum = 1
	}
	if c.Method != MIFGSM && c.Momentum != 0 {
		return c, fmt.Errorf("%s: momentum applies to mifgsm only", c.Method)
	}
	return c, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Name is a short label such as "pgd ε=0.03 (10×0.0075)".
func (c Config) Name() string {
	s := fmt.Sprintf("%s ε=%g", c.Method, c.Eps)
	if c.Method != FGSM {
		s += fmt.Sprintf(" (%d×%.4g", c.Steps, c.Alpha)
		if c.RandomStart {
			s += ", random start"
		}
		if c.Restarts > 1 {
			s += fmt.Sprintf(", %d restarts", c.Restarts)
		}
		s += ")"
	}
	if c.Target.Mode != "" {
		s += ", targeted " + c.Target.String()
	}
	return s
}
