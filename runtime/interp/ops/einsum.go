package ops

import (
	"fmt"
	"slices"
	"strings"
)

func init() { register("Einsum", 12, newEinsum) }

// einsum evaluates an Einstein summation over float operands: every label
// of the equation runs over its axis, the product of the operands'
// elements is added into the output element the output labels pick, and
// labels absent from the output are summed. A label repeated in one term
// takes a diagonal; "..." stands for the axes no letter names, aligned at
// the right and broadcast as NumPy does; without "->" the output is "..."
// then the letters used once, in alphabetical order.
//
// The gradient of operand k is the same summation with dY in place of the
// output and k's element as the target: dX_k[k's labels] += dY·Π others.
type einsum struct {
	terms  []einsumTerm
	out    einsumTerm
	output bool // the equation names its output
}

// einsumTerm is one operand's subscripts: letters as 0..51, the ellipsis
// where it sits (-1 when absent).
type einsumTerm struct {
	labels   []int
	ellipsis int
}

const ellipsisLabel = 52 // first label of the ellipsis axes

func newEinsum(n *Node) (Op, error) {
	eq, err := n.Str("equation", "")
	if err != nil {
		return nil, err
	}
	eq = strings.ReplaceAll(eq, " ", "")
	if eq == "" {
		return nil, fmt.Errorf("Einsum: the equation attribute is missing")
	}
	o := &einsum{}
	lhs, rhs, arrow := strings.Cut(eq, "->")
	for _, s := range strings.Split(lhs, ",") {
		t, err := parseEinsumTerm(s)
		if err != nil {
			return nil, fmt.Errorf("Einsum %q: %w", eq, err)
		}
		o.terms = append(o.terms, t)
	}
	if len(o.terms) != len(n.Inputs) {
		return nil, fmt.Errorf("Einsum %q: %d terms for %d inputs", eq, len(o.terms), len(n.Inputs))
	}
	if !arrow {
		return o, nil
	}
	o.output = true
	if o.out, err = parseEinsumTerm(rhs); err != nil {
		return nil, fmt.Errorf("Einsum %q: output: %w", eq, err)
	}
	for i, l := range o.out.labels {
		if slices.Contains(o.out.labels[:i], l) {
			return nil, fmt.Errorf("Einsum %q: output label %c repeats", eq, labelRune(l))
		}
		if !slices.ContainsFunc(o.terms, func(t einsumTerm) bool { return slices.Contains(t.labels, l) }) {
			return nil, fmt.Errorf("Einsum %q: output label %c is in no input", eq, labelRune(l))
		}
	}
	if o.out.ellipsis >= 0 && !slices.ContainsFunc(o.terms, func(t einsumTerm) bool { return t.ellipsis >= 0 }) {
		return nil, fmt.Errorf("Einsum %q: the output has ... and no input does", eq)
	}
	return o, nil
}

func parseEinsumTerm(s string) (einsumTerm, error) {
	t := einsumTerm{ellipsis: -1}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			t.labels = append(t.labels, int(c-'a'))
		case c >= 'A' && c <= 'Z':
			t.labels = append(t.labels, 26+int(c-'A'))
		case c == '.' && strings.HasPrefix(s[i:], "...") && t.ellipsis < 0:
			t.ellipsis = len(t.labels)
			i += 2
		default:
			return t, fmt.Errorf("term %q: unexpected %q (letters and one ... only)", s, c)
		}
	}
	return t, nil
}

func labelRune(l int) rune {
	if l < 26 {
		return rune('a' + l)
	}
	return rune('A' + l - 26)
}

// einsumPlan is an equation bound to operand shapes: the size of every
// label and, per operand and for the output, the stride each label steps.
type einsumPlan struct {
	sizes    []int   // per label, 0 where unused
	used     []int   // the labels in use
	strides  [][]int // [operand][label]
	outStr   []int
	outShape []int
}

// expand returns a term's labels for an operand of the given rank, its
// ellipsis replaced by the last ne of the ellipsis labels (E in all).
func (t einsumTerm) expand(rank, e int) ([]int, error) {
	if t.ellipsis < 0 {
		if rank != len(t.labels) {
			return nil, fmt.Errorf("%d subscripts for an operand of rank %d", len(t.labels), rank)
		}
		return t.labels, nil
	}
	ne := rank - len(t.labels)
	if ne < 0 {
		return nil, fmt.Errorf("%d subscripts for an operand of rank %d", len(t.labels), rank)
	}
	out := slices.Clone(t.labels[:t.ellipsis])
	for i := 0; i < ne; i++ {
		out = append(out, ellipsisLabel+e-ne+i)
	}
	return append(out, t.labels[t.ellipsis:]...), nil
}

func (o *einsum) plan(in []*Tensor) (*einsumPlan, error) {
	e := 0 // ellipsis axes, the most any operand has
	for i, t := range o.terms {
		if in[i] == nil {
			return nil, fmt.Errorf("Einsum operand %d is missing", i)
		}
		if in[i].IsInt() {
			return nil, fmt.Errorf("%w: Einsum operand %d is %v; float operands only", ErrUnsupported, i, in[i])
		}
		if t.ellipsis >= 0 {
			e = max(e, in[i].Rank()-len(t.labels))
		}
	}
	p := &einsumPlan{sizes: make([]int, ellipsisLabel+e)}
	labels := make([][]int, len(o.terms))
	count := make([]int, len(p.sizes))
	for i, t := range o.terms {
		ls, err := t.expand(in[i].Rank(), e)
		if err != nil {
			return nil, fmt.Errorf("Einsum operand %d: %w", i, err)
		}
		labels[i] = ls
		for ax, l := range ls {
			d := in[i].Shape[ax]
			switch s := p.sizes[l]; {
			case s == 0 && count[l] == 0 || s == 1 && l >= ellipsisLabel:
				p.sizes[l] = d
			case d == s || d == 1 && l >= ellipsisLabel:
			default:
				return nil, fmt.Errorf("Einsum operand %d: axis %d has size %d where the label has size %d", i, ax, d, s)
			}
			count[l]++
		}
	}
	out := o.outputLabels(count, e)
	for l := range p.sizes {
		if count[l] > 0 {
			p.used = append(p.used, l)
		}
	}
	p.strides = make([][]int, len(in))
	for i, ls := range labels {
		p.strides[i] = make([]int, len(p.sizes))
		st := strides(in[i].Shape)
		for ax, l := range ls {
			if in[i].Shape[ax] != 1 || p.sizes[l] == 1 {
				p.strides[i][l] += st[ax] // += : a repeated label walks the diagonal
			}
		}
	}
	p.outStr = make([]int, len(p.sizes))
	for _, l := range out {
		p.outShape = append(p.outShape, p.sizes[l])
	}
	for ax, st := range strides(p.outShape) {
		p.outStr[out[ax]] = st
	}
	return p, nil
}

// outputLabels returns the output's labels, the ellipsis expanded.
func (o *einsum) outputLabels(count []int, e int) []int {
	var ell []int
	for i := 0; i < e; i++ {
		ell = append(ell, ellipsisLabel+i)
	}
	if !o.output {
		out := ell
		for l := 0; l < ellipsisLabel; l++ {
			if count[l] == 1 {
				out = append(out, l)
			}
		}
		return out
	}
	if o.out.ellipsis < 0 {
		return o.out.labels
	}
	out := slices.Clone(o.out.labels[:o.out.ellipsis])
	out = append(out, ell...)
	return append(out, o.out.labels[o.out.ellipsis:]...)
}

// each calls f with the offset of every operand and of the output for
// every assignment of the labels in use.
func (p *einsumPlan) each(f func(offs []int, out int)) {
	for _, l := range p.used {
		if p.sizes[l] == 0 {
			return
		}
	}
	pos := make([]int, len(p.used))
	offs := make([]int, len(p.strides))
	out := 0
	for {
		f(offs, out)
		k := len(p.used) - 1
		for ; k >= 0; k-- {
			l := p.used[k]
			pos[k]++
			for i := range offs {
				offs[i] += p.strides[i][l]
			}
			out += p.outStr[l]
			if pos[k] < p.sizes[l] {
				break
			}
			for i := range offs {
				offs[i] -= p.strides[i][l] * pos[k]
			}
			out -= p.outStr[l] * pos[k]
			pos[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

func (o *einsum) Forward(s *State, in []*Tensor) ([]*Tensor, error) {
	if len(in) != len(o.terms) {
		return nil, fmt.Errorf("Einsum: %d inputs for %d terms", len(in), len(o.terms))
	}
	p, err := o.plan(in)
	if err != nil {
		return nil, err
	}
	acc := make([]float64, Numel(p.outShape))
	p.each(func(offs []int, out int) {
		v := 1.0
		for i, off := range offs {
			v *= float64(in[i].Data[off])
		}
		acc[out] += v
	})
	s.Save(in...)
	s.SetAux(p)
	return []*Tensor{fromFloat64(p.outShape, acc)}, nil
}

func (o *einsum) Backward(s *State, dy []*Tensor) ([]*Tensor, error) {
	p, ok := s.Aux().(*einsumPlan)
	if !ok {
		return nil, fmt.Errorf("Einsum: backward without a forward pass")
	}
	in := make([]*Tensor, len(o.terms))
	for i := range in {
		in[i] = s.Saved(i)
	}
	grads := make([]*Tensor, len(in))
	for k := range in {
		if !s.Needs(k) {
			continue
		}
		acc := make([]float64, in[k].Len())
		p.each(func(offs []int, out int) {
			v := float64(dy[0].Data[out])
			for i, off := range offs {
				if i != k {
					v *= float64(in[i].Data[off])
				}
			}
			acc[offs[k]] += v
		})
		grads[k] = fromFloat64(in[k].Shape, acc)
	}
	return grads, nil
}
