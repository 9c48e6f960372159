package harden

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/export"
	"github.com/onnxguard/onnxguard/fgsm"
	"github.com/onnxguard/onnxguard/gradengine"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// RunConfig is a whole hardening for Run: the model and data, the
// training, where the result goes and how it is measured.
type RunConfig struct {
	Training Config // Normalize'd by Run; ModelSHA256 filled in when empty; Eps is needed, for the clean recipe too

	Model     *onnx.Model
	ModelPath string // where Model was read from; the first measurement classifies that file
	// Program is Model compiled; nil compiles it with Compile, whose Seed
	// and MaxMemory default to Training.Seed and ORT.MaxMemory.
	Program *interp.Program
	Compile interp.Options
	Pre     dataset.Preprocess
	// Train and Val are the training and validation data; with Val nil,
	// Training.ValSplit of Train is held out for validation.
	Train, Val *Data
	Resume     bool   // continue the run checkpointed in Training.CheckpointDir
	Out        string // the hardened ONNX file to write
	Version    string // recorded as onnxguard.version

	// ORT configures the ONNX Runtime sessions that check the export and,
	// unless MeasureOnInterp, classify the measurements' images.
	ORT             ort.Options
	MeasureOnInterp bool
	// GradEngine chooses what computes the gradients of the measurements
	// and of training ("" is gradengine.Auto). Training's engine is opened
	// with gradengine.Options.Train over Program: its graph reads the
	// weights training updates, and passes it cannot compute (training-mode
	// BatchNormalization or Dropout, TRADES's and MART's losses) run on
	// Program.
	GradEngine gradengine.Kind
	// GradNotice, when set, gets the reason, in one line, when Auto falls
	// back to the interpreter.
	GradNotice func(string)
	// AutoAttack are the ensembles each measurement ends with, at
	// Training.Eps; none skips them.
	AutoAttack []fgsm.Ensemble
	// Tolerance bounds the export's relative difference from the
	// interpreter; 0 means export.DefaultTolerance.
	Tolerance float64

	// ClassNames, when set, names the model's classes once their number is
	// known (after the first measurement, before training); the names are
	// written into the hardened file's metadata.
	ClassNames func(classes int) ([]string, error)
	// Progress is called after every training step and validation batch.
	Progress func(Progress)
	// Trained is called once training ends, before the export.
	Trained func(*Result)
	// Measuring is called before each measurement with the file measured;
	// the update it returns gets the samples done and the total, and
	// finish is called when the measurement ends. Either may be nil.
	Measuring func(path string) (update func(done, total int), finish func())
}

// Measurement is a model's accuracy on the validation data: clean, under
// FGSM and MeasurePGDSteps-step PGD at the training ε, and under the AutoAttack
// ensembles; Audit is the whole audit (Model, Data and Settings unset).
type Measurement struct {
	Runtime          string
	GradEngine       string // gradengine.Engine.Name of the engine that computed the gradients
	Clean, FGSM, PGD float64
	Audit            *fgsm.Report
}

// Report is what Run did and measured.
type Report struct {
	Config        Config // the training's, normalized
	*Result              // the training's
	Before, After Measurement
	// MaxRelError is the export check's largest relative difference
	// between ONNX Runtime on Out and the interpreter.
	MaxRelError float64
	Tolerance   float64
	ClassNames  []string
	TrainTime   time.Duration // training, and its validation
	// TrainGradEngine names what computed the training passes' gradients
	// (gradengine.Engine.GradEngine of a training pass): the interpreter,
	// or ONNX Runtime's graph and its device.
	TrainGradEngine string
}

// Run hardens a model from start to end: it measures the original model,
// trains it (Train, or Resume), writes the best epoch into Out with the
// run's provenance (Provenance) and checks the file on ONNX Runtime
// against the interpreter, then measures the written file the same way.
// ONNX Runtime is looked for before anything else, so that a missing
// library fails before hours of training.
func Run(ctx context.Context, rc *RunConfig) (*Report, error) {
	if _, err := ort.FindLibrary(rc.ORT.Library); err != nil {
		return nil, fmt.Errorf("harden checks the model it exports on ONNX Runtime: %w", err)
	}
	cfg, prog, err := rc.prepare()
	if err != nil {
		return nil, err
	}
	val, err := rc.measured(cfg)
	if err != nil {
		return nil, err
	}
	rep := &Report{Config: cfg, Tolerance: rc.Tolerance}
	if rep.Tolerance == 0 {
		rep.Tolerance = export.DefaultTolerance
	}
	if rep.Before, err = rc.measure(ctx, rc.ModelPath, prog, val, cfg); err != nil {
		return nil, fmt.Errorf("measuring the original model: %w", err)
	}
	// Named before training, not after: names for another model fail now.
	if rc.ClassNames != nil {
		if rep.ClassNames, err = rc.ClassNames(len(rep.Before.Audit.CleanPerClass)); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	fit := Train
	if rc.Resume {
		fit = Resume
	}
	trainee, err := rc.trainee(prog)
	if err != nil {
		return nil, err
	}
	rep.TrainGradEngine = trainee.GradEngine(trainingWant(cfg))
	rep.Result, err = fit(ctx, trainee, rc.Pre, rc.Train, rc.Val, cfg, rc.Progress)
	trainee.Close()
	if err != nil {
		if errors.Is(err, ErrDiverged) {
			return nil, fmt.Errorf("%w (checkpoints in %s)", err, cfg.CheckpointDir)
		}
		return nil, err
	}
	if rc.Trained != nil {
		rc.Trained(rep.Result)
	}
	rep.TrainTime = time.Since(start)
	// prog holds the best epoch's weights, which the file should hold too.
	if rep.MaxRelError, err = rc.write(prog, val, rep); err != nil {
		return nil, err
	}
	// prog holds the exported weights, and the check has just shown ONNX
	// Runtime on the file agrees with it: its gradients are the file's.
	if rep.After, err = rc.measure(ctx, rc.Out, prog, val, cfg); err != nil {
		return nil, fmt.Errorf("measuring the exported model: %w", err)
	}
	return rep, nil
}

// prepare normalizes the training settings and compiles the model when
// the caller has not.
func (rc *RunConfig) prepare() (Config, *interp.Program, error) {
	cfg, err := rc.Training.Normalize()
	if err != nil {
		return cfg, nil, err
	}
	if rc.Model == nil || rc.Train == nil {
		return cfg, nil, errors.New("harden: Run needs a model and training data")
	}
	if cfg.Eps == 0 {
		return cfg, nil, errors.New("harden: Run measures the model under attack at the training ε: give an ε, for the clean recipe too")
	}
	if rc.Out != "" && filepath.Clean(rc.Out) == filepath.Clean(rc.ModelPath) {
		return cfg, nil, fmt.Errorf("harden: Run would write the hardened model over the model it starts from (%s): give another output path", rc.Out)
	}
	if cfg.ModelSHA256 == "" {
		if cfg.ModelSHA256, err = rc.Model.SHA256(); err != nil {
			return cfg, nil, err
		}
	}
	prog := rc.Program
	if prog == nil {
		opt := rc.Compile
		if opt.Seed == 0 {
			opt.Seed = cfg.Seed
		}
		if opt.MaxMemory == 0 {
			opt.MaxMemory = rc.ORT.MaxMemory
		}
		if prog, err = interp.Compile(rc.Model, &opt); err != nil {
			return cfg, nil, fmt.Errorf("%s: %w", rc.ModelPath, err)
		}
	}
	return cfg, prog, nil
}

// measured is the validation data the measurements run on: Val, or the
// ValSplit fraction of Train that Train holds out (Split is
// deterministic, so both get the same samples).
func (rc *RunConfig) measured(cfg Config) (*Data, error) {
	if rc.Val != nil {
		return rc.Val, nil
	}
	if cfg.ValSplit == 0 {
		return nil, errors.New("harden: Run measures the model on validation data: give Val, or a ValSplit of the training data")
	}
	_, val, err := rc.Train.Split(cfg.ValSplit)
	return val, err
}

// write exports the trained weights into Out and checks the file on ONNX
// Runtime against prog on up to 64 validation samples.
func (rc *RunConfig) write(prog *interp.Program, val *Data, rep *Report) (float64, error) {
	meta := Provenance(rep.Config, rep.Epochs, rep.BestEpoch, rep.Config.ModelSHA256, rc.Version)
	if len(rep.ClassNames) > 0 {
		js, _ := json.Marshal(rep.ClassNames) // a []string always encodes
		meta[dataset.ClassNamesKey] = string(js)
	}
	if err := export.Write(rc.Out, rc.Model, rep.Weights, &export.Options{Metadata: meta}); err != nil {
		return 0, err
	}
	return export.VerifyPixels(rc.Out, prog, rc.Pre, val.X, min(val.N, 64), rep.Tolerance, &rc.ORT)
}

// Run's measurements: FGSM, and PGD of MeasurePGDSteps steps from a
// random start, at the training ε, in batches of evalBatch, keeping
// measureExamples examples per attack for the reports' pictures.
const (
	MeasurePGDSteps = 10
	measureExamples = 8
)

// measure audits prog, the model of the file at path, on the validation
// data with FGSM and PGD at the training ε and the AutoAttack ensembles;
// ONNX Runtime on the file classifies, unless MeasureOnInterp.
func (rc *RunConfig) measure(ctx context.Context, path string, prog *interp.Program, val *Data, cfg Config) (Measurement, error) {
	grads, err := rc.grads(path, prog)
	if err != nil {
		return Measurement{}, err
	}
	defer grads.Close()
	fm, err := fgsm.NewModel(grads, rc.Pre)
	if err != nil {
		return Measurement{}, err
	}
	src, err := dataset.FromMemory(val.X, val.Labels, val.N, val.C, val.H, val.W)
	if err != nil {
		return Measurement{}, err
	}
	opt := fgsm.AuditOptions{Batch: evalBatch(cfg), Seed: cfg.Seed, Examples: measureExamples, Ensembles: rc.AutoAttack, Attacks: []fgsm.Config{
		{Method: fgsm.FGSM, Eps: cfg.Eps},
		{Method: fgsm.PGD, Eps: cfg.Eps, Steps: MeasurePGDSteps, RandomStart: true},
	}}
	if !rc.MeasureOnInterp {
		ortOpt := rc.ORT
		if ortOpt.Check == nil { // a file this run read or wrote: check it as any other
			ortOpt.Check = interp.PreflightCheck
		}
		sess, err := ort.Open(path, &ortOpt)
		if err != nil {
			return Measurement{}, err
		}
		defer sess.Close()
		opt.Check, opt.RuntimeName = sess, "onnxruntime/"+sess.Device()
	}
	finish := func() {}
	if rc.Measuring != nil {
		var f func()
		if opt.Progress, f = rc.Measuring(path); f != nil {
			finish = f
		}
	}
	r, err := fgsm.Audit(ctx, fm, src, opt)
	finish()
	if err != nil {
		return Measurement{}, err
	}
	r.GradEngine = grads.Name()
	return Measurement{Runtime: r.Runtime, GradEngine: r.GradEngine, Clean: r.CleanAccuracy, FGSM: r.Results[0].Accuracy, PGD: r.Results[1].Accuracy, Audit: r}, nil
}

// trainee opens training's gradient engine over prog: the one
// GradEngine chooses, fed prog's weights as training updates them.
func (rc *RunConfig) trainee(prog *interp.Program) (*gradengine.Engine, error) {
	e, err := gradengine.Open(rc.Model, prog, gradengine.Options{Kind: rc.GradEngine, ORT: &rc.ORT, Train: true})
	if err != nil {
		return nil, fmt.Errorf("training's gradients: %w", err)
	}
	if e.Fallback && rc.GradNotice != nil {
		rc.GradNotice("training: " + e.Reason)
	}
	return e, nil
}

// grads opens the measurement's gradient engine over prog for the model
// in the file at path (the original model, already loaded, or the
// export, which holds prog's weights).
func (rc *RunConfig) grads(path string, prog *interp.Program) (*gradengine.Engine, error) {
	m := rc.Model
	if path != rc.ModelPath {
		var err error
		if m, err = onnx.Load(path); err != nil {
			return nil, err
		}
	}
	e, err := gradengine.Open(m, prog, gradengine.Options{Kind: rc.GradEngine, ORT: &rc.ORT})
	if err != nil {
		return nil, err
	}
	if e.Fallback && rc.GradNotice != nil {
		rc.GradNotice(e.Reason)
	}
	return e, nil
}
