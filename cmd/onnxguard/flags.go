package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/onnxguard/onnxguard/dataset"
	"github.com/onnxguard/onnxguard/gradengine"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime"
	"github.com/onnxguard/onnxguard/runtime/interp"
	"github.com/onnxguard/onnxguard/runtime/ort"
)

// modelFlags name the model and how to run it.
var modelFlags = []cli.Flag{
	&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "ONNX model `FILE` (required)"},
	maxMemoryFlag,
}

var engineFlags = []cli.Flag{
	&cli.StringFlag{Name: "engine", Value: "ort", Usage: "executor: ort (ONNX Runtime) or interp (onnxguard's pure-Go interpreter)"},
	&cli.StringFlag{Name: "device", Value: "auto", Usage: "ONNX Runtime device: cpu, cuda or auto (CUDA when available, else CPU)"},
	&cli.StringFlag{Name: "ort-lib", Usage: "path of libonnxruntime.so (default: $ONNXRUNTIME_LIB, then the cache that scripts/setup-ort.sh fills)"},
	&cli.IntFlag{Name: "threads", Usage: "ONNX Runtime intra-op threads (0 = all cores)"},
	&cli.BoolFlag{Name: "verbose", Usage: "let ONNX Runtime log warnings"},
}

// gradFlags choose what computes the gradients of attack, audit and harden.
var gradFlags = []cli.Flag{
	&cli.StringFlag{Name: "grad-engine", Value: "auto", Usage: "gradients: interp (onnxguard's interpreter), ort (a gradient graph on ONNX Runtime, on --device) or auto (the interpreter where its vector kernels run every convolution, else ONNX Runtime's graph when it opens)"},
}

// gradEngine reads --grad-engine.
func gradEngine(c *cli.Context) (gradengine.Kind, error) {
	k, err := gradengine.ParseKind(c.String("grad-engine"))
	if err != nil {
		return "", fmt.Errorf("--grad-engine %q: choose auto, interp or ort", c.String("grad-engine"))
	}
	return k, nil
}

// dataFlags name the data and the preprocessing between pixels and model.
var dataFlags = []cli.Flag{
	&cli.StringFlag{Name: "data", Aliases: []string{"d"}, Usage: "images: IDX file, CIFAR-10 .bin file or folder, class-per-folder images, or .npy (required)"},
	&cli.StringFlag{Name: "labels", Aliases: []string{"l"}, Usage: "labels file (IDX or .npy); IDX labels beside the images are found automatically"},
	&cli.IntFlag{Name: "limit", Usage: "use at most `N` samples (0 = all)"},
	&cli.IntFlag{Name: "batch", Value: 64, Usage: "samples per batch"},
	&cli.Float64Flag{Name: "input-scale", Value: 1, Usage: "multiply pixels in [0,1] by this before the model (255 for models trained on raw 0-255 pixels)"},
	&cli.StringFlag{Name: "mean", Usage: "per-channel mean subtracted after scaling, e.g. 0.485,0.456,0.406"},
	&cli.StringFlag{Name: "std", Usage: "per-channel standard deviation divided after the mean, e.g. 0.229,0.224,0.225"},
	&cli.StringFlag{Name: "image-size", Usage: "image folders: scale each image to cover `HxW` (or one size for a square) and centre-crop it", DefaultText: "the model's input size"},
	&cli.IntFlag{Name: "channels", Usage: "image folders: read images as 1 (grey) or 3 (RGB) channels, converting colour and grey", DefaultText: "the model's input channels"},
	&cli.StringFlag{Name: "layout", Value: "auto", Usage: "model input layout: nchw, nhwc (channels last, as tf2onnx exports) or auto (nhwc when the input is N×H×W×1 or N×H×W×3); data and outputs stay N×C×H×W"},
}

// imageFlags reads --image-size and --channels; 0 means from the model.
func imageFlags(c *cli.Context) (h, w, ch int, err error) {
	if s := c.String("image-size"); s != "" {
		hs, ws, square := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
		if !square {
			ws = hs
		}
		var err1, err2 error
		h, err1 = strconv.Atoi(strings.TrimSpace(hs))
		w, err2 = strconv.Atoi(strings.TrimSpace(ws))
		if err1 != nil || err2 != nil || h < 1 || w < 1 || h > maxImageSide || w > maxImageSide {
			return 0, 0, 0, fmt.Errorf("--image-size %q: give HxW such as 224x224, or one size such as 224, from 1 to %d", s, maxImageSide)
		}
	}
	return h, w, c.Int("channels"), checkChannels(c)
}

// maxImageSide bounds --image-size: a sample of 3×4096×4096 pixels is
// already 200 MB of float32.
const maxImageSide = 4096

func checkChannels(c *cli.Context) error {
	if n := c.Int("channels"); n != 0 && n != 1 && n != 3 || c.IsSet("channels") && n == 0 {
		return fmt.Errorf("--channels %d: give 1 (grey) or 3 (RGB)", n)
	}
	return nil
}

// runConfig is what the flags of a model-running command become.
type runConfig struct {
	modelPath string
	engine    string
	ort       ort.Options
	data      string
	dataOpt   dataset.Options
	pre       dataset.Preprocess
	layout    string // --layout: "auto" until openData settles pre.Layout
	batch     int
	json      bool
}

func readRunConfig(c *cli.Context) (*runConfig, error) {
	cfg := &runConfig{
		modelPath: c.String("model"),
		engine:    c.String("engine"),
		ort:       ortOptions(c),
		data:      c.String("data"),
		dataOpt:   dataset.Options{Labels: c.String("labels")},
		layout:    strings.ToLower(c.String("layout")),
		json:      c.Bool("json"),
	}
	if cfg.engine != "ort" && cfg.engine != "interp" {
		return nil, fmt.Errorf("--engine %q: choose ort or interp", cfg.engine)
	}
	if err := checkDevice(c); err != nil {
		return nil, err
	}
	var err error
	if cfg.ort.MaxMemory, err = maxMemory(c); err != nil {
		return nil, err
	}
	if cfg.layout != "auto" {
		if cfg.pre.Layout, err = dataset.ParseLayout(cfg.layout); err != nil {
			return nil, fmt.Errorf("--layout: %w; or auto", err)
		}
	}
	if cfg.batch, err = intFlag(c, "batch", 1); err != nil {
		return nil, err
	}
	if cfg.dataOpt.Limit, err = intFlag(c, "limit", 0); err != nil {
		return nil, err
	}
	if cfg.ort.Threads, err = intFlag(c, "threads", 0); err != nil {
		return nil, err
	}
	if cfg.pre.Scale, err = float32Flag(c, "input-scale", positive); err != nil {
		return nil, err
	}
	if cfg.pre.Mean, err = float32List("mean", c.String("mean"), anyFinite); err != nil {
		return nil, err
	}
	if cfg.pre.Std, err = float32List("std", c.String("std"), positive); err != nil {
		return nil, err
	}
	if cfg.dataOpt.Height, cfg.dataOpt.Width, cfg.dataOpt.Channels, err = imageFlags(c); err != nil {
		return nil, err
	}
	return cfg, nil
}

// checkDevice checks --device, which ONNX Runtime would otherwise refuse
// in its own words.
func checkDevice(c *cli.Context) error {
	switch d := c.String("device"); d {
	case ort.DeviceAuto, ort.DeviceCPU, ort.DeviceCUDA:
		return nil
	default:
		return fmt.Errorf("--device %q: choose %s, %s or %s", d, ort.DeviceCPU, ort.DeviceCUDA, ort.DeviceAuto)
	}
}

// ortOptions reads the ONNX Runtime flags of engineFlags.
func ortOptions(c *cli.Context) ort.Options {
	return ort.Options{Check: interp.PreflightCheck, Library: c.String("ort-lib"), Device: c.String("device"), Threads: c.Int("threads"),
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
// With --layout auto it first settles the layout from the model's input,
// so cfg.pre is complete for everything that follows. Image folders are
// read at the model's input size and channels unless --image-size and
// --channels say otherwise.
func (cfg *runConfig) openData(path string, opt *dataset.Options, in onnx.ValueInfo) (dataset.Source, error) {
	if cfg.layout == "auto" {
		cfg.pre.Layout = dataset.DetectLayout(in.Shape)
	}
	o := *opt
	if chw := cfg.pre.Layout.SampleDims(in.Shape); chw != nil {
		if o.Channels == 0 && (chw[0] == 1 || chw[0] == 3) {
			o.Channels = int(chw[0])
		}
		if o.Height == 0 && o.Width == 0 && chw[1] > 0 && chw[2] > 0 {
			o.Height, o.Width = int(chw[1]), int(chw[2])
		}
	}
	src, err := dataset.Open(path, &o)
	if err != nil {
		if errors.Is(err, dataset.ErrLabelsUnused) {
			return nil, fmt.Errorf("--labels %s: %w", o.Labels, err)
		}
		return nil, err
	}
	if src.Len() == 0 {
		src.Close()
		what := "the data set is empty"
		if o.Shards > 1 {
			what = "this --shard of it is empty"
		}
		return nil, fmt.Errorf("%s: no samples to read: %s", path, what)
	}
	if err := dataset.CheckShape(src, in.Shape, cfg.pre.Layout); err != nil {
		src.Close()
		return nil, fmt.Errorf("%s: model input %q: %w", path, in.Name, err)
	}
	c, _, _ := src.Dims()
	if err := checkPerChannel(cfg.pre, c); err != nil {
		src.Close()
		return nil, err
	}
	return src, nil
}

// checkPerChannel checks that --mean and --std give one value, or one per
// channel of the data.
func checkPerChannel(p dataset.Preprocess, c int) error {
	for _, v := range []struct {
		flag string
		n    int
	}{{"mean", len(p.Mean)}, {"std", len(p.Std)}} {
		if v.n > 1 && v.n != c {
			return fmt.Errorf("--%s has %d values but the data has %d channel(s); give one value, or one per channel", v.flag, v.n, c)
		}
	}
	return p.Validate(c)
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
		p, err := interp.Compile(s.model, interpOptions(interp.Options{MaxMemory: cfg.ort.MaxMemory}))
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("%s: %w", cfg.modelPath, err)
		}
		s.engine = interp.Engine{P: p}
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
