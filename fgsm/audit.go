package fgsm

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/runtime"
)

// AuditOptions configure Audit.
type AuditOptions struct {
	Attacks []Config // each is normalized before use
	Batch   int      // samples per batch; 0 means 64
	Seed    uint64
	// Check is the runtime that classifies clean and adversarial images
	// (ONNX Runtime, as deployed); nil means the interpreter itself.
	Check       runtime.Engine
	RuntimeName string
	// Progress, when set, is called after every batch with the samples
	// done and the total.
	Progress func(done, total int)
	// Sink, when set, receives every attack's adversarial batch, attack
	// being the index in Attacks.
	Sink func(attack int, b *dataset.Batch, o *Outcome) error
	// Examples is how many of the first samples to keep, per attack, in
	// Report.Examples for pictures.
	Examples int
}

// Audit runs every attack on every sample of src and classifies the clean
// and adversarial images with opt.Check. The Report it returns holds the
// data's counts; its Model, Data and Settings are the caller's to fill.
func Audit(ctx context.Context, m *Model, src dataset.Source, opt AuditOptions) (*Report, error) {
	if !src.Labelled() {
		return nil, errors.New("the data has no labels; attacks need the true class of every sample: pass --labels")
	}
	if c, h, w := src.Dims(); c != m.C || h != m.H || w != m.W {
		return nil, fmt.Errorf("the data's samples are %d×%d×%d but the model takes %d×%d×%d", c, h, w, m.C, m.H, m.W)
	}
	cfgs := make([]Config, len(opt.Attacks))
	for i, c := range opt.Attacks {
		var err error
		if cfgs[i], err = c.Normalize(); err != nil {
			return nil, err
		}
	}
	batch := opt.Batch
	if batch <= 0 {
		batch = 64
	}
	atk, err := NewAttacker(m, opt.Seed)
	if err != nil {
		return nil, err
	}
	k := atk.Classes()
	for _, c := range cfgs {
		if c.Target.Mode == "class" && c.Target.Class >= k {
			return nil, fmt.Errorf("target class %d: the model scores classes 0 to %d", c.Target.Class, k-1)
		}
	}
	// Without a runtime to check on, the interpreter classifies: the
	// logits the attack already computed are its classification.
	check, name, self := opt.Check, opt.RuntimeName, opt.Check == nil
	if self {
		name = "interp"
	}
	r := &Report{Version: ReportVersion, Runtime: name, Seed: opt.Seed, CleanPerClass: classes(k)}
	for _, c := range cfgs {
		r.Results = append(r.Results, &Result{Config: c, PerClass: classes(k)})
	}
	var (
		b                           dataset.Batch
		in, clean, cleanBuf, advBuf []float32 // cleanBuf, advBuf: the checking runtime's logits
		cleanPred                   = make([]int, 0, batch)
		first                       = -1
		end                         int
	)
	per, hw := m.Per(), m.H*m.W
	total := src.Len()
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		err := src.Next(&b, batch)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if first < 0 {
			first = b.Start
		}
		end = b.Start + b.N
		for i, y := range b.Labels[:b.N] {
			if y < 0 || y >= k {
				return nil, fmt.Errorf("sample %d has label %d but the model scores %d classes", b.Start+i, y, k)
			}
		}
		x := b.X[:b.N*per]
		if clean, _, err = m.Logits(clean, x, b.N); err != nil {
			return nil, err
		}
		cleanOut := clean
		if !self {
			in = m.Pre.Apply(in, x, m.C, hw)
			if cleanBuf, err = classify(check, cleanBuf, in, b.N, k); err != nil {
				return nil, err
			}
			cleanOut = cleanBuf
		}
		cleanPred = cleanPred[:0]
		for i := 0; i < b.N; i++ {
			y, p := b.Labels[i], runtime.Argmax(cleanOut[i*k:(i+1)*k])
			cleanPred = append(cleanPred, p)
			r.Samples++
			r.CleanPerClass[y].Samples++
			if p == y {
				r.CleanCorrect++
				r.CleanPerClass[y].Correct++
			}
			if runtime.Argmax(clean[i*k:(i+1)*k]) != p {
				r.CleanDisagreement++
			}
		}
		for ai, c := range cfgs {
			o, err := atk.Attack(c, x, b.Labels[:b.N], b.N, b.Start)
			if err != nil {
				return nil, fmt.Errorf("%s on samples %d to %d: %w", c.Name(), b.Start, b.Start+b.N-1, err)
			}
			advOut := o.Logits
			if !self {
				in = m.Pre.Apply(in, o.Adv, m.C, hw)
				if advBuf, err = classify(check, advBuf, in, b.N, k); err != nil {
					return nil, err
				}
				advOut = advBuf
			}
			res := r.Results[ai]
			for i := 0; i < b.N; i++ {
				y := b.Labels[i]
				p := runtime.Argmax(advOut[i*k : (i+1)*k])
				res.Samples++
				res.PerClass[y].Samples++
				if p == y {
					res.Correct++
					res.PerClass[y].Correct++
				}
				if p != runtime.Argmax(o.Logits[i*k:(i+1)*k]) {
					res.Disagreements++
				}
				linf, l2 := norms(o.Adv[i*per:(i+1)*per], x[i*per:(i+1)*per])
				res.LinfSum += linf
				res.L2Sum += l2
				res.LinfMax = max(res.LinfMax, linf)
				res.L2Max = max(res.L2Max, l2)
				switch {
				case o.Skipped(i):
					res.Skipped++
				case cleanPred[i] == y:
					res.Eligible++
					if o.Targets == nil && p != y || o.Targets != nil && p == o.Targets[i] {
						res.Successes++
					}
				}
				if r.Samples-b.N+i < opt.Examples {
					r.Examples = append(r.Examples, &Example{Index: b.Start + i, Attack: string(c.Method), Eps: c.Eps,
						Label: y, CleanPred: cleanPred[i], AdvPred: p,
						Clean: append([]float32(nil), x[i*per:(i+1)*per]...), Adv: append([]float32(nil), o.Adv[i*per:(i+1)*per]...),
						C: m.C, H: m.H, W: m.W, Perturbed: !o.Skipped(i)})
				}
			}
			if opt.Sink != nil {
				if err := opt.Sink(ai, &b, o); err != nil {
					return nil, err
				}
			}
		}
		if opt.Progress != nil {
			opt.Progress(r.Samples, total)
		}
	}
	if r.Samples == 0 {
		return nil, errors.New("the data holds no samples (check --limit and --shard)")
	}
	r.Shards = []Shard{{Start: first, End: end}}
	r.finish()
	return r, nil
}

// classify runs n preprocessed samples through e and checks that it scores
// k classes.
func classify(e runtime.Engine, dst, in []float32, n, k int) ([]float32, error) {
	out, shape, err := e.Run(dst, in, n)
	if err != nil {
		return nil, err
	}
	if len(shape) == 0 || shape[0] != int64(n) || len(out) != n*k {
		return nil, fmt.Errorf("the runtime returned output of shape %v for %d samples; the interpreter scores %d classes", shape, n, k)
	}
	return out, nil
}

func classes(k int) []ClassCount {
	pc := make([]ClassCount, k)
	for i := range pc {
		pc[i].Class = i
	}
	return pc
}
