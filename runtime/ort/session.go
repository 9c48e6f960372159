//go:build cgo

package ort

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	ortgo "github.com/yalue/onnxruntime_go"
)

// Session is a model loaded into ONNX Runtime. Its methods are safe for
// concurrent use; Runs are serialised, since they share the session's tensors.
type Session struct {
	mu      sync.Mutex
	sess    *ortgo.DynamicAdvancedSession // nil once closed
	name    string                        // model path, for messages
	device  string
	inputs  []TensorInfo
	outputs []TensorInfo

	sample    []int64 // the input's shape after the batch axis
	sampleLen int     // values per sample
	batch     int     // the input's fixed batch size, or 0 when dynamic
	logits    []int64 // the first output's declared shape

	// The tensors of the last batch size run, kept while it repeats.
	chunk    int
	in       *ortgo.Tensor[float32]
	out      *ortgo.Tensor[float32] // nil when ONNX Runtime allocates the output
	ortAlloc bool                   // the declared output shape proved wrong; let ONNX Runtime allocate
}

// model is where a session's ONNX bytes come from.
type model struct {
	name string // for messages
	path string // "" when loaded from data
	data []byte
	// gradient marks a gradient graph, whose session runs without two
	// things that suit a forward pass:
	//   - ONNX Runtime's memory pattern, which plans from the first run one
	//     block that holds every intermediate value at once, where the
	//     backward half frees most of the forward's values as it goes
	//     (ConvNeXt-T's FGSM step at batch 16 peaked at 7.3 GB with it, 4.8
	//     GB without);
	//   - prepacking, which packs a weight once for each kernel that reads
	//     it, and a gradient graph reads each weight twice, forward and
	//     transposed (ViT-B/16's graph session: 1.81 GB before its first
	//     run, 1.03 GB without, at the same speed in ONNX Runtime's profile:
	//     7.1 and 11.3 s per batch of 16 with, 7.0 and 8.0 without).
	gradient bool
	// form, where set, gives the model's bytes instead of data: for a CPU
	// session whose provider has NCHWc kernels, of the block size it is
	// passed, otherwise 0 (OpenGraphForms).
	form func(block int) ([]byte, error)
}

// Open loads the model at modelPath, once opt.Check has passed it. Options
// left zero mean defaults: the library FindLibrary finds, device auto,
// one thread per core; opt itself must be given, for its Check.
func Open(modelPath string, opt *Options) (*Session, error) {
	if st, err := os.Stat(modelPath); err != nil {
		return nil, fmt.Errorf("ort: model: %w", err)
	} else if st.IsDir() {
		return nil, fmt.Errorf("ort: model %s is a directory; give the .onnx file", modelPath)
	}
	return open(model{name: modelPath, path: modelPath}, opt)
}

// OpenBytes is Open for a model held in memory. A model whose weights are in
// external data files must be opened with Open, from its directory.
func OpenBytes(onnx []byte, opt *Options) (*Session, error) {
	if len(onnx) == 0 {
		return nil, errors.New("ort: OpenBytes: the model is empty (0 bytes)")
	}
	return open(model{name: "model (from memory)", data: onnx}, opt)
}

func open(m model, opt *Options) (*Session, error) {
	if opt == nil || opt.Check == nil {
		return nil, errNoCheck
	}
	set, err := opt.settings()
	if err != nil {
		return nil, err
	}
	// ONNX Runtime looks for its providers beside the path it was loaded
	// from, which is the first Open's when later ones name the same file
	// another way.
	if set.library, err = loadLibrary(set.library, set.verbose); err != nil {
		return nil, err
	}
	if set.device == DeviceCUDA {
		// Before ONNX Runtime tries: the most common failure, said plainly.
		if dir, missing := missingCUDAFiles(set.library); len(missing) > 0 {
			return nil, errCUDAFilesMissing(dir, missing)
		}
	}
	ins, outs, err := m.signature(set)
	if err != nil {
		return nil, err
	}
	s := &Session{name: m.name, inputs: ins, outputs: outs}
	if err := s.checkSignature(); err != nil {
		return nil, err
	}
	// Only the logits are asked for: ONNX Runtime then skips whatever
	// computes nothing but the other outputs.
	s.sess, s.device, err = m.start(set, []string{ins[0].Name}, []string{outs[0].Name})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// start creates the session on the device set asks for.
func (m model) start(set settings, input, output []string) (*ortgo.DynamicAdvancedSession, string, error) {
	switch set.device {
	case DeviceCPU:
		sess, err := m.session(set, false, input, output)
		return sess, DeviceCPU, err
	case DeviceCUDA:
		sess, err := m.session(set, true, input, output)
		if err != nil {
			// Why a provider failed to load is only in ONNX Runtime's log.
			err = fmt.Errorf("%w (ONNX Runtime's log above may say why)", err)
		}
		return sess, DeviceCUDA, err
	}
	if dir, missing := missingCUDAFiles(set.library); len(missing) > 0 {
		warnOnce(set.warn, fmt.Sprintf("ort: device auto: running on CPU: no CUDA provider (%s not in %s)\n", strings.Join(missing, ", "), dir))
	} else {
		var sess *ortgo.DynamicAdvancedSession
		var err error
		try := func() { sess, err = m.session(set, true, input, output) }
		if set.verbose {
			try()
		} else {
			quietly(try)
		}
		if err == nil {
			return sess, DeviceCUDA, nil
		}
		warnOnce(set.warn, fmt.Sprintf("ort: device auto: running on CPU: %s; --device cuda shows why\n", oneLine(strings.TrimPrefix(err.Error(), "ort: "))))
	}
	sess, err := m.session(set, false, input, output)
	return sess, DeviceCPU, err
}

// session opens the session; its Close must call leaveArena once it has
// destroyed it.
func (m model) session(set settings, cuda bool, in, out []string) (sess *ortgo.DynamicAdvancedSession, err error) {
	shared := useArena()
	defer func() {
		if err != nil {
			leaveArena()
		}
	}()
	opts, err := sessionOptions(set.threads, set.verbose, set.spin, m.gradient, shared)
	if err != nil {
		return nil, err
	}
	defer opts.Destroy()
	if cuda {
		cu, err := ortgo.NewCUDAProviderOptions()
		if err != nil {
			return nil, fmt.Errorf("%w: creating CUDA provider options: %w", ErrNoCUDA, err)
		}
		defer cu.Destroy()
		if err := opts.AppendExecutionProviderCUDA(cu); err != nil {
			return nil, fmt.Errorf("%w: ONNX Runtime could not add it (are the CUDA and cuDNN libraries its GPU build needs installed and on the library path?): %w", ErrNoCUDA, err)
		}
	}
	var blockedErr error
	if m.form != nil && !cuda {
		// The blocked form is a speed-up: where it cannot be written or
		// ONNX Runtime refuses it, the portable graph runs, with a notice.
		if block := loadedNCHWcBlock(); block > 0 {
			data, err := m.form(block)
			if err == nil {
				if sess, err = m.create(data, in, out, opts); err == nil {
					return sess, nil
				}
			}
			if !errors.Is(err, ErrNoForm) {
				blockedErr = err
			}
		}
	}
	data := m.data
	if m.form != nil {
		if data, err = m.form(0); err != nil {
			return nil, fmt.Errorf("ort: writing %s: %w", m.name, err)
		}
	}
	sess, err = m.create(data, in, out, opts)
	switch {
	case err != nil && cuda:
		return nil, fmt.Errorf("%w: creating the CUDA session for %s: %w", ErrNoCUDA, m.name, err)
	case err != nil && blockedErr != nil:
		return nil, fmt.Errorf("ort: creating the session for %s: %w (its blocked form for the CPU failed too: %s)", m.name, err, oneLine(blockedErr.Error()))
	case err != nil:
		return nil, fmt.Errorf("ort: creating the session for %s: %w", m.name, err)
	case blockedErr != nil:
		warnOnce(set.warn, fmt.Sprintf("ort: %s: its blocked form for the CPU failed, so it runs in the portable one: %s\n", m.name, oneLine(blockedErr.Error())))
	}
	return sess, nil
}

// create creates the session from m's file, or from data when m has none.
func (m model) create(data []byte, in, out []string, opts *ortgo.SessionOptions) (*ortgo.DynamicAdvancedSession, error) {
	if m.path != "" {
		return ortgo.NewDynamicAdvancedSession(m.path, in, out, opts)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty (0 bytes)", m.name)
	}
	return ortgo.NewDynamicAdvancedSessionWithONNXData(data, in, out, opts)
}

func sessionOptions(threads int, verbose, spin, gradient, sharedArena bool) (*ortgo.SessionOptions, error) {
	opts, err := ortgo.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("ort: creating session options: %w", err)
	}
	if err := opts.SetLogSeverityLevel(sessionLogLevel(verbose)); err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("ort: setting the log level: %w", err)
	}
	if err := opts.SetIntraOpNumThreads(threads); err != nil {
		opts.Destroy()
		return nil, fmt.Errorf("ort: setting %d intra-op threads: %w", threads, err)
	}
	if !spin {
		if err := opts.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("ort: turning off the threads' spinning: %w", err)
		}
	}
	if sharedArena {
		if err := opts.AddSessionConfigEntry("session.use_env_allocators", "1"); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("ort: sharing the environment's arena: %w", err)
		}
	}
	if gradient {
		if err := opts.SetMemPattern(false); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("ort: turning off the memory pattern: %w", err)
		}
		if err := opts.AddSessionConfigEntry("session.disable_prepacking", "1"); err != nil {
			opts.Destroy()
			return nil, fmt.Errorf("ort: turning off weight prepacking: %w", err)
		}
	}
	return opts, nil
}

// checkSignature accepts the models Run can drive and records the shapes it
// needs.
func (s *Session) checkSignature() error {
	if len(s.inputs) != 1 {
		return fmt.Errorf("ort: %s has %d inputs (%s); onnxguard runs classifiers with exactly one float32 image input", s.name, len(s.inputs), describe(s.inputs))
	}
	in := s.inputs[0]
	if in.Type != "float32" {
		return fmt.Errorf("ort: %s: input %s; onnxguard needs a float32 image input", s.name, in)
	}
	if len(in.Shape) < 2 {
		return fmt.Errorf("ort: %s: input %s; onnxguard needs a batch axis followed by the sample's axes, e.g. [N C H W]", s.name, in)
	}
	s.sample = in.Shape[1:]
	s.sampleLen = 1
	for i, d := range s.sample {
		if d <= 0 {
			return fmt.Errorf("ort: %s: axis %d of input %s is dynamic; onnxguard needs every axis but the batch fixed (export the model with a fixed image size)", s.name, i+1, in)
		}
		if d > (1<<31)/int64(s.sampleLen) {
			return fmt.Errorf("ort: %s: input %s has more than 2^31 values per sample", s.name, in)
		}
		s.sampleLen *= int(d)
	}
	if b := in.Shape[0]; b > 1<<20 {
		return fmt.Errorf("ort: %s: input %s has a fixed batch of %d; too large to run in chunks", s.name, in, b)
	} else if b > 0 {
		s.batch = int(b)
	}
	if len(s.outputs) == 0 {
		return fmt.Errorf("ort: %s has no outputs", s.name)
	}
	if out := s.outputs[0]; out.Type != "float32" {
		return fmt.Errorf("ort: %s: first output %s; onnxguard reads the first output as float32 logits", s.name, out)
	}
	s.logits = s.outputs[0].Shape
	return nil
}

// Inputs describes the model's inputs (exactly one for an opened Session).
func (s *Session) Inputs() []TensorInfo { return cloneInfos(s.inputs) }

// Outputs describes the model's outputs; Run returns the first.
func (s *Session) Outputs() []TensorInfo { return cloneInfos(s.outputs) }

// Device returns the device the session runs on: "cpu" or "cuda".
func (s *Session) Device() string { return s.device }

// Close releases the session and its tensors. Closing twice is harmless;
// Run after Close returns an error.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropTensors()
	if s.sess == nil {
		return nil
	}
	err := s.sess.Destroy()
	leaveArena()
	s.sess = nil
	if err != nil {
		return fmt.Errorf("ort: closing the session for %s: %w", s.name, err)
	}
	return nil
}

// warned holds the fallback warnings already written to the process's
// stderr: a command that opens several sessions (harden measures two models
// and checks the export) says once that it runs on CPU.
var warned sync.Map

// warnOnce writes msg to w, once per process when w is os.Stderr.
func warnOnce(w io.Writer, msg string) {
	if w == nil {
		return
	}
	if f, ok := w.(*os.File); ok && f == os.Stderr {
		if _, seen := warned.LoadOrStore(msg, true); seen {
			return
		}
	}
	io.WriteString(w, msg)
}
