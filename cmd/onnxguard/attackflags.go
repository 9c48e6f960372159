package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/gradengine"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// iterFlags tune the iterative attacks; attack and audit share them.
var iterFlags = []cli.Flag{
	&cli.Float64Flag{Name: "alpha", Usage: "step size of bim, pgd and mifgsm in pixel space", DefaultText: "ε/steps; 2.5·ε/steps for pgd"},
	&cli.IntFlag{Name: "steps", Usage: "iterations of bim, pgd and mifgsm", DefaultText: "10"},
	&cli.BoolFlag{Name: "random-start", Usage: "start bim, pgd and mifgsm from a uniform random point of the ε-ball; --random-start=false turns it off", DefaultText: "on for pgd only"},
	&cli.IntFlag{Name: "restarts", Usage: "pgd runs per sample from fresh random starts, keeping the strongest", DefaultText: "1"},
	&cli.Float64Flag{Name: "momentum", Usage: "mifgsm's momentum decay μ", DefaultText: "1.0"},
	&cli.StringFlag{Name: "target", Usage: "targeted attack toward a class `C`, 'next' (label+1) or 'random'; samples already labelled C are left alone and counted as skipped"},
	&cli.BoolFlag{Name: "cross-check", Usage: "also classify the adversarial images with the interpreter (one more forward pass a batch) and count where it and the runtime disagree; with --grad-engine's graph on ONNX Runtime, the clean images too"},
	&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the random starts and random targets"},
	&cli.StringFlag{Name: "shard", Usage: "process only the `K/N`-th of N contiguous slices of the data (K from 1 to N); merge the reports with 'onnxguard report merge'"},
}

// attackSettings builds the attack configuration for method and ε from
// the shared flags.
func attackSettings(c *cli.Context, method fgsm.Method, eps float64) (fgsm.Config, error) {
	cfg := fgsm.Config{Method: method, Eps: eps}
	if err := checkFloat("eps", eps, unit); err != nil {
		return cfg, err
	}
	var err error
	if cfg.Alpha, err = setFloatFlag(c, "alpha", unit); err != nil {
		return cfg, err
	}
	if cfg.Momentum, err = setFloatFlag(c, "momentum", positive); err != nil {
		return cfg, err
	}
	if cfg.Steps, err = setIntFlag(c, "steps", 1); err != nil {
		return cfg, err
	}
	if cfg.Restarts, err = setIntFlag(c, "restarts", 1); err != nil {
		return cfg, err
	}
	if method != fgsm.FGSM {
		cfg.RandomStart = method == fgsm.PGD
		if c.IsSet("random-start") {
			cfg.RandomStart = c.Bool("random-start")
		}
		if method != fgsm.MIFGSM {
			cfg.Momentum = 0
		}
	} else {
		// FGSM is one step from the clean image: the iterative flags
		// shape the other attacks of an audit, not it.
		cfg.Alpha, cfg.Steps, cfg.Restarts, cfg.Momentum = 0, 0, 0, 0
	}
	if cfg.Target, err = fgsm.ParseTarget(c.String("target")); err != nil {
		return cfg, fmt.Errorf("--target: %w", err)
	}
	return cfg.Normalize()
}

// parseShard reads --shard K/N into the data options (0-based inside).
func parseShard(s string, opt *dataset.Options) (fgsm.Shard, error) {
	if s == "" {
		return fgsm.Shard{}, nil
	}
	k, n, ok := strings.Cut(s, "/")
	ki, err1 := strconv.Atoi(strings.TrimSpace(k))
	ni, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil || ni < 1 || ki < 1 || ki > ni {
		return fgsm.Shard{}, fmt.Errorf("--shard %q: give K/N with 1 ≤ K ≤ N, e.g. 2/8 for the second of eight slices", s)
	}
	opt.Shard, opt.Shards = ki-1, ni
	return fgsm.Shard{Index: ki - 1, Of: ni}, nil
}

// attackSession is a model opened for attacks: the runtime that
// classifies (from --engine) and the interpreter that takes gradients.
type attackSession struct {
	*session
	cfg     *runConfig
	model   *fgsm.Model
	check   runtime.Engine // nil when the interpreter classifies too
	runtime string
	shard   fgsm.Shard
	cli     *cli.Context // for --class-names
	sha256  string       // the model's digest, once modelSHA256 has computed it
	grads   *gradengine.Engine
}

// openGrads opens the gradient engine of kind over the compiled program
// p, saying on stderr why when auto falls back to the interpreter.
// recompile, where p was compiled for the gradients alone (not the
// interpreter that classifies), compiles it again, so that the engine may
// let p go (gradengine.Options.Recompile); nil otherwise.
func (a *attackSession) openGrads(c *cli.Context, p *interp.Program, kind gradengine.Kind, recompile func() (*interp.Program, error)) error {
	var err error
	a.grads, err = gradengine.Open(a.session.model, p, gradengine.Options{Kind: kind, ORT: &a.cfg.ort, Recompile: recompile})
	if err != nil {
		return fmt.Errorf("--grad-engine ort: %w", err)
	}
	if a.grads.Fallback {
		fmt.Fprintf(c.App.ErrWriter, "gradients: %s\n", a.grads.Reason)
	}
	return nil
}

// Close closes the gradient engine and the session.
func (a *attackSession) Close() {
	if a.grads != nil {
		a.grads.Close()
	}
	a.session.Close()
}

// openAttack opens a model for attacks, refusing one whose gradients the
// interpreter cannot take.
func openAttack(c *cli.Context) (*attackSession, error) { return openSession(c, false) }

// openBlackBox opens a model for an audit that needs no gradients: when
// the interpreter cannot run it, the session has no model and ONNX Runtime
// alone answers the queries.
func openBlackBox(c *cli.Context) (*attackSession, error) { return openSession(c, true) }

// openSession reads the run flags and --shard, opens the model and the
// data, and readies the interpreter for the gradients: the engine's own
// program with --engine interp, a compiled one beside ONNX Runtime
// otherwise. blackBox runs on ONNX Runtime only and lets a model the
// interpreter refuses through, without gradients.
func openSession(c *cli.Context, blackBox bool) (*attackSession, error) {
	cfg, err := readRunConfig(c)
	if err != nil {
		return nil, err
	}
	shard, err := parseShard(c.String("shard"), &cfg.dataOpt)
	if err != nil {
		return nil, err
	}
	kind, err := gradEngine(c)
	if err != nil {
		return nil, err
	}
	if blackBox { // a black-box audit takes no gradients
		kind = gradengine.Interp
	}
	if blackBox && cfg.engine != "ort" {
		return nil, errors.New("--engine interp: a black-box audit runs on ONNX Runtime; drop --engine")
	}
	s, err := cfg.open()
	if err != nil {
		return nil, err
	}
	a := &attackSession{session: s, cfg: cfg, shard: shard, runtime: engineName(cfg, s), cli: c}
	var p *interp.Program
	var compile func() (*interp.Program, error)
	if ie, ok := s.engine.(interp.Engine); ok {
		p = ie.P
	} else {
		a.check = s.engine
		compile = func() (*interp.Program, error) {
			return interp.Compile(s.model, interpOptions(interp.Options{MaxMemory: cfg.ort.MaxMemory}))
		}
		p, err = compile()
	}
	if err == nil {
		if err = a.openGrads(c, p, kind, compile); err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: %w", cfg.modelPath, err)
		}
		a.model, err = fgsm.NewModel(a.grads, cfg.pre)
	} else if !blackBox {
		err = fmt.Errorf("the interpreter, which gradient attacks need with either --grad-engine, cannot run this model: %w", err)
	}
	if err != nil {
		if !blackBox {
			a.Close()
			return nil, fmt.Errorf("%s: %w", cfg.modelPath, err)
		}
		fmt.Fprintf(c.App.ErrWriter, "black-box only: the interpreter cannot run %s (%s); Square queries %s alone\n", cfg.modelPath, firstLine(err.Error()), a.runtime)
		a.model = nil
	}
	return a, nil
}

// fill completes an audit report with what identifies the run: the model,
// the data, the settings and the shard.
func (a *attackSession) fill(r *fgsm.Report) error {
	sum, err := a.modelSHA256()
	if err != nil {
		return err
	}
	if a.grads != nil {
		r.GradEngine = a.grads.Name()
	}
	identify(r, "onnxguard "+version, reportModel(a.session.model, a.cfg.modelPath, sum, a.graph.Inputs[0]), a.cfg.batch, a.cfg.pre)
	r.Data = a.cfg.data
	r.Settings.Limit = a.cfg.dataOpt.Limit
	for i := range r.Shards {
		r.Shards[i].Index, r.Shards[i].Of = a.shard.Index, a.shard.Of
	}
	r.Classes, err = classNames(a.cli, a.session.model, a.src, len(r.CleanPerClass))
	return err
}

// modelSHA256 is the model's digest, computed once per session: the
// audit's state key and its report both name it, and onnx.Model.SHA256
// parses the whole model again to check that it is unchanged.
func (a *attackSession) modelSHA256() (string, error) {
	if a.sha256 == "" {
		sum, err := a.session.model.SHA256()
		if err != nil {
			return "", err
		}
		a.sha256 = sum
	}
	return a.sha256, nil
}

// reportModel identifies m, read from path with digest sum and input in,
// in a report.
func reportModel(m *onnx.Model, path, sum string, in onnx.ValueInfo) fgsm.ModelInfo {
	return fgsm.ModelInfo{Path: path, SHA256: sum, Opset: m.Opset(""), Input: in.Name, InputShape: in.Shape}
}

// identify fills in what identifies an audit: the tool that ran it, the
// model, and the batch size and preprocessing (an unset input scale is 1).
func identify(r *fgsm.Report, tool string, model fgsm.ModelInfo, batch int, pre dataset.Preprocess) {
	r.Tool, r.Model = tool, model
	r.Settings = fgsm.Settings{Batch: batch, InputScale: pre.Scale, Mean: pre.Mean, Std: pre.Std, Layout: pre.Layout}
	if r.Settings.InputScale == 0 {
		r.Settings.InputScale = 1
	}
}
