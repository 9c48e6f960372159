package main

import (
	"fmt"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// modelFlags name the model and how to run it.
var modelFlags = []cli.Flag{
	&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "ONNX model `FILE`", Required: true},
	maxMemoryFlag,
}

var engineFlags = []cli.Flag{
	&cli.StringFlag{Name: "engine", Value: "ort", Usage: "executor: ort (ONNX Runtime) or interp (onnxguard's pure-Go interpreter)"},
	&cli.StringFlag{Name: "device", Value: "auto", Usage: "ONNX Runtime device: cpu, cuda or auto (CUDA when available, else CPU)"},
	&cli.StringFlag{Name: "ort-lib", Usage: "path of libonnxruntime.so (default: $ONNXRUNTIME_LIB, then the cache that scripts/setup-ort.sh fills)"},
	&cli.IntFlag{Name: "threads", Usage: "ONNX Runtime intra-op threads (0 = all cores)"},
	&cli.BoolFlag{Name: "verbose", Usage: "let ONNX Runtime log warnings"},
}

// dataFlags name the data and the preprocessing between pixels and model.
var dataFlags = []cli.Flag{
	&cli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "images: IDX file, CIFAR-10 .bin file or folder, class-per-folder images, or .npy", Required: true},
	&cli.StringFlag{Name: "labels", Aliases: []string{"l"}, Usage: "labels file (IDX or .npy); IDX labels beside the images are found automatically"},
	&cli.IntFlag{Name: "limit", Usage: "use at most `N` samples (0 = all)"},
	&cli.IntFlag{Name: "batch", Value: 64, Usage: "samples per batch"},
	&cli.Float64Flag{Name: "input-scale", Value: 1, Usage: "multiply pixels in [0,1] by this before the model (255 for models trained on raw 0-255 pixels)"},
	&cli.StringFlag{Name: "mean", Usage: "per-channel mean subtracted after scaling, e.g. 0.485,0.456,0.406"},
	&cli.StringFlag{Name: "std", Usage: "per-channel standard deviation divided after the mean, e.g. 0.229,0.224,0.225"},
}

// runConfig is what the flags of a model-running command become.
type runConfig struct {
	modelPath string
	engine    string
	ort       ort.Options
	data      string
	dataOpt   dataset.Options
	pre       dataset.Preprocess
	batch     int
	json      bool
}

func readRunConfig(c *cli.Context) (*runConfig, error) {
	cfg := &runConfig{
		modelPath: c.String("model"),
		engine:    c.String("engine"),
		ort:       ortOptions(c),
		data:      c.String("data"),
		dataOpt:   dataset.Options{Labels: c.String("labels"), Limit: c.Int("limit")},
		pre:       dataset.Preprocess{Scale: float32(c.Float64("input-scale"))},
		batch:     c.Int("batch"),
		json:      c.Bool("json"),
	}
	if cfg.engine != "ort" && cfg.engine != "interp" {
		return nil, fmt.Errorf("--engine %q: choose ort or interp", cfg.engine)
	}
	if cfg.batch < 1 {
		return nil, fmt.Errorf("--batch %d: must be at least 1", cfg.batch)
	}
	if cfg.dataOpt.Limit < 0 {
		return nil, fmt.Errorf("--limit %d: must not be negative", cfg.dataOpt.Limit)
	}
	var err error
	if cfg.ort.MaxMemory, err = maxMemory(c); err != nil {
		return nil, err
	}
	if cfg.pre.Mean, err = dataset.ParseFloats(c.String("mean")); err != nil {
		return nil, fmt.Errorf("--mean: %w", err)
	}
	if cfg.pre.Std, err = dataset.ParseFloats(c.String("std")); err != nil {
		return nil, fmt.Errorf("--std: %w", err)
	}
	return cfg, nil
}

// ortOptions reads the ONNX Runtime flags of engineFlags.
func ortOptions(c *cli.Context) ort.Options {
	return ort.Options{Library: c.String("ort-lib"), Device: c.String("device"), Threads: c.Int("threads"),
		Verbose: c.Bool("verbose"), Warn: os.Stderr}
}

// session is an opened model, engine and data source.
type session struct {
	model  *onnx.Model
	graph  *onnx.Graph
	engine runtime.Engine
	src    dataset.Source
}

func (s *session) Close() {
	if s.engine != nil {
		s.engine.Close()
	}
	if s.src != nil {
		s.src.Close()
	}
}

// openData opens a data set and checks that its samples fit the model's
// input and the preprocessing flags, closing it again if they do not.
func (cfg *runConfig) openData(path string, opt *dataset.Options, in onnx.ValueInfo) (dataset.Source, error) {
	src, err := dataset.Open(path, opt)
	if err != nil {
		return nil, err
	}
	if err := dataset.CheckShape(src, in.Shape); err != nil {
		src.Close()
		return nil, fmt.Errorf("%s: model input %q: %w", path, in.Name, err)
	}
	c, _, _ := src.Dims()
	if err := cfg.pre.Validate(c); err != nil {
		src.Close()
		return nil, err
	}
	return src, nil
}

// open loads the model, opens the data and checks that they fit, then
// starts the engine.
func (cfg *runConfig) open() (*session, error) {
	s := &session{}
	var err error
	if s.model, err = onnx.Load(cfg.modelPath); err != nil {
		return nil, err
	}
	if s.graph, err = s.model.Graph(); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.modelPath, err)
	}
	if len(s.graph.Inputs) != 1 {
		return nil, fmt.Errorf("%s: the model has %d inputs; onnxguard runs classifiers with one image input", cfg.modelPath, len(s.graph.Inputs))
	}
	if s.src, err = cfg.openData(cfg.data, &cfg.dataOpt, s.graph.Inputs[0]); err != nil {
		return nil, err
	}
	switch cfg.engine {
	case "interp":
		p, err := interp.Compile(s.model, &interp.Options{MaxMemory: cfg.ort.MaxMemory})
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: %w", cfg.modelPath, err)
		}
		s.engine = runtime.Interp{P: p}
	default:
		sess, err := ort.Open(cfg.modelPath, &cfg.ort)
		if err != nil {
			s.Close()
			return nil, err
		}
		s.engine = sess
	}
	return s, nil
}

// withModel is the frame of every command that runs a model over data:
// flags become a config, the model and data are opened and checked, and do
// gets the batch settings, whose progress callback draws a bar named desc
// that is cleared once the last sample is done, before do prints.
func withModel(c *cli.Context, desc string, do func(cfg *runConfig, s *session, rc runtime.Config) error) error {
	cfg, err := readRunConfig(c)
	if err != nil {
		return err
	}
	// eval and predict run ONNX Runtime back to back, with nothing else
	// between its runs that its spinning threads would slow.
	cfg.ort.Spin = true
	s, err := cfg.open()
	if err != nil {
		return err
	}
	defer s.Close()
	update, finish := progress(desc)
	rc := runtime.Config{Pre: cfg.pre, Batch: cfg.batch}
	if update != nil {
		rc.Progress = func(done, total int) {
			update(done, total)
			if done == total {
				finish()
			}
		}
	}
	defer finish()
	return do(cfg, s, rc)
}

// progress returns a progress callback drawing a bar on stderr when stderr
// is a terminal, and nil otherwise so pipelines get clean output.
func progress(desc string) (func(done, total int), func()) {
	update, finish := progressNote(desc)
	if update == nil {
		return nil, finish
	}
	return func(done, total int) { update(done, total, "") }, finish
}

// progressNote is progress whose callback also sets a note shown after the
// description (a training loss, say).
func progressNote(desc string) (func(done, total int, note string), func()) {
	if !term.IsTerminal(int(os.Stderr.Fd())) {
		return nil, func() {}
	}
	var bar *progressbar.ProgressBar
	update := func(done, total int, note string) {
		if bar == nil {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr),
				progressbar.OptionSetDescription(desc), progressbar.OptionShowCount(),
				progressbar.OptionShowIts(), progressbar.OptionSetItsString("samples"),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		if note != "" {
			bar.Describe(desc + " " + note)
		}
		bar.Set(done)
	}
	return update, func() {
		if bar != nil {
			bar.Finish()
			bar = nil
		}
	}
}
