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
	// Ensembles are the AutoAttack ensembles (or stages alone) to run,
	// each at its own norm and ε.
	Ensembles []Ensemble
	Batch     int // samples per batch; 0 means 64
	Seed      uint64
	// Check is the runtime that classifies clean and adversarial images
	// (ONNX Runtime, as deployed); nil means the interpreter itself.
	Check       runtime.Engine
	RuntimeName string
	// CrossCheck also classifies the adversarial images of the fixed-step
	// attacks with the interpreter (one more forward pass an attack and
	// batch) to count where it and Check disagree (Result.Disagreements),
	// and the clean images where their logits came from another engine's
	// gradient pass (the gradient graph on ONNX Runtime; one more forward
	// pass a batch), for a clean check independent of ONNX Runtime.
	CrossCheck bool
	// Pre is the preprocessing between pixels and the model when Audit
	// gets no interpreter model (m nil); otherwise m's is used.
	Pre dataset.Preprocess
	// Progress, when set, is called after every batch with the samples
	// done and the total.
	Progress func(done, total int)
	// Log, when set, gets a line for each ensemble stage of each batch:
	// the progress of a long AutoAttack run.
	Log func(line string)
	// Sink, when set, receives every attack's adversarial batch, attack
	// being the index in Attacks.
	Sink func(attack int, b *dataset.Batch, o *Outcome) error
	// Examples is how many of the first samples to keep, per attack, in
	// Report.Examples for pictures.
	Examples int
	// Done holds the reports of batches an interrupted audit finished
	// (Checkpoint's): those batches are not audited again.
	Done []*Report
	// Checkpoint, when set, receives the report of each batch audited.
	Checkpoint func(*Report) error
}

var (
	// ErrNoSamples is returned by Audit when the data holds no samples.
	ErrNoSamples = errors.New("the data holds no samples")
	// ErrResumeMismatch is returned by Audit when AuditOptions.Done holds
	// batches that this audit's batches do not line up with: it was
	// interrupted with another batch size or other data.
	ErrResumeMismatch = errors.New("finished batches of the interrupted audit do not line up with this one's")
)

// auditor is one audit's fixed parts.
type auditor struct {
	m       *Model // nil when the interpreter cannot run the model
	atk     *Attacker
	check   runtime.Engine
	self    bool // the interpreter classifies
	score   Scorer
	pre     dataset.Preprocess
	k       int
	c, h, w int
	cfgs    []Config
	opt     *AuditOptions
	skel    *Report // identity and attacks, no counts
	in      []float32
}

// Audit runs every attack and ensemble on every sample of src and
// classifies the clean and adversarial images with opt.Check. m, the
// model through the interpreter, may be nil when only black-box stages
// run (Square); then opt.Check classifies. The Report it returns holds the
// data's counts; its Model, Data and Settings are the caller's to fill.
func Audit(ctx context.Context, m *Model, src dataset.Source, opt AuditOptions) (*Report, error) {
	a, err := newAuditor(m, src, &opt)
	if err != nil {
		return nil, err
	}
	batch := opt.Batch
	if batch <= 0 {
		batch = 64
	}
	done := map[int]*Report{}
	for _, d := range opt.Done {
		if err := compatible(a.skel, d); err != nil || len(d.Shards) != 1 {
			return nil, fmt.Errorf("a finished batch of the interrupted audit does not match this one (%v): start afresh", err)
		}
		done[d.Shards[0].Start] = d
	}
	r := newReport(a.skel)
	var b dataset.Batch
	first, end, reused := -1, 0, 0
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
		br, ok := done[b.Start]
		if ok && br.Shards[0].End == end {
			reused++
		} else {
			if br, err = a.batch(ctx, &b, r.Samples); err != nil {
				return nil, err
			}
			if opt.Checkpoint != nil {
				if err := opt.Checkpoint(br); err != nil {
					return nil, err
				}
			}
		}
		r.add(br)
		if opt.Progress != nil {
			opt.Progress(r.Samples, src.Len())
		}
	}
	if r.Samples == 0 {
		return nil, ErrNoSamples
	}
	if reused != len(done) {
		return nil, fmt.Errorf("%w (%d of %d)", ErrResumeMismatch, len(done)-reused, len(done))
	}
	r.Shards = []Shard{{Start: first, End: end}}
	r.finish()
	return r, nil
}

func newAuditor(m *Model, src dataset.Source, opt *AuditOptions) (*auditor, error) {
	if !src.Labelled() {
		return nil, fmt.Errorf("%w; attacks need the true class of every sample", dataset.ErrNoLabels)
	}
	a := &auditor{m: m, check: opt.Check, self: opt.Check == nil, pre: opt.Pre, opt: opt}
	a.c, a.h, a.w = src.Dims()
	if m != nil {
		if a.c != m.C || a.h != m.H || a.w != m.W {
			return nil, fmt.Errorf("the data's samples are %d×%d×%d but the model takes %d×%d×%d", a.c, a.h, a.w, m.C, m.H, m.W)
		}
		a.pre = m.Pre
	} else if a.self {
		return nil, errors.New("an audit needs the interpreter or a runtime to classify the images")
	}
	for _, c := range opt.Attacks {
		c, err := c.Normalize()
		if err != nil {
			return nil, err
		}
		if m == nil {
			return nil, needsGradients(string(c.Method))
		}
		a.cfgs = append(a.cfgs, c)
	}
	for _, e := range opt.Ensembles {
		if m == nil && !e.BlackBox() {
			return nil, needsGradients(e.Name)
		}
	}
	if err := a.classes(); err != nil {
		return nil, err
	}
	for _, c := range a.cfgs {
		if c.Target.Mode == "class" && c.Target.Class >= a.k {
			return nil, fmt.Errorf("target class %d: the model scores classes 0 to %d", c.Target.Class, a.k-1)
		}
	}
	name := opt.RuntimeName
	if a.self {
		name = "interp"
	}
	a.skel = &Report{Version: ReportVersion, Runtime: name, Seed: opt.Seed, CleanPerClass: classes(a.k), Checks: Checks{BlackBox: m == nil}}
	for _, c := range a.cfgs {
		a.skel.Results = append(a.skel.Results, &Result{Config: c, PerClass: classes(a.k)})
	}
	for _, e := range opt.Ensembles {
		a.skel.Ensembles = append(a.skel.Ensembles, newEnsembleResult(e, a.k))
	}
	return a, nil
}

// classes finds the number of classes and sets up the Scorer of the
// deployed model.
func (a *auditor) classes() error {
	if a.m != nil {
		var err error
		if a.atk, err = NewAttacker(a.m, a.opt.Seed); err != nil {
			return err
		}
		a.k = a.atk.Classes()
	}
	if a.self {
		a.score = a.m.Score
		return nil
	}
	per := a.c * a.h * a.w
	a.score = EngineScorer(a.check, a.pre, a.c, a.h, a.w, a.k)
	if a.atk != nil {
		a.atk.Check = a.score // the runtime classifies the adversarial images
	}
	if a.k == 0 {
		out, err := a.score(nil, make([]float32, per), 1)
		if err != nil {
			return fmt.Errorf("probing the model's classes: %w", err)
		}
		if a.k = len(out); a.k < 2 {
			return fmt.Errorf("the model scores %d class; attacks need a classifier with at least 2", a.k)
		}
		a.score = EngineScorer(a.check, a.pre, a.c, a.h, a.w, a.k)
	}
	return nil
}

func classes(k int) []ClassCount {
	pc := make([]ClassCount, k)
	for i := range pc {
		pc[i].Class = i
	}
	return pc
}
