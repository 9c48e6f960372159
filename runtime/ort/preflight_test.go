//go:build cgo

package ort

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/onnxguard/onnxguard/internal/mutate"
	"github.com/onnxguard/onnxguard/onnx"
	"github.com/onnxguard/onnxguard/runtime/interp"
)

// rawChildEnv names the model a re-run of the test binary opens in ONNX
// Runtime with no pre-flight: how a test sees whether a model would kill
// the process, without the test dying with it.
const rawChildEnv = "ONNXGUARD_ORT_RAW_CHILD"

// rawChild opens path as Open does but skipping the Check, and runs
// one sample; it returns the exit status. A crash inside ONNX Runtime ends
// the process by a signal before it returns.
func rawChild(path string) int {
	set, err := (&Options{Device: DeviceCPU, Threads: 1}).settings()
	if err == nil {
		set.library, err = loadLibrary(set.library, false)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return childNoLibrary
	}
	om, err := onnx.Load(path)
	if err != nil {
		fmt.Println("refused:", err)
		return 0
	}
	g, err := om.Graph()
	if err != nil {
		fmt.Println("refused:", err)
		return 0
	}
	s := &Session{name: path, inputs: tensorInfos(g.Inputs), outputs: tensorInfos(g.Outputs)}
	if err := s.checkSignature(); err != nil {
		fmt.Println("refused:", err)
		return 0
	}
	if s.sess, s.device, err = (model{name: path, path: path}).start(set, []string{s.inputs[0].Name}, []string{s.outputs[0].Name}); err != nil {
		fmt.Println("refused:", oneLine(err.Error()))
		return 0
	}
	defer s.Close()
	if _, _, err := s.Run(nil, make([]float32, s.sampleLen), 1); err != nil {
		fmt.Println("run failed:", oneLine(err.Error()))
		return 0
	}
	fmt.Println("ran")
	return 0
}

// childNoLibrary is rawChild's status when ONNX Runtime cannot be loaded;
// a crash is any other non-zero status (the Go runtime exits with 2 on a
// signal inside cgo code) or a death by a signal.
const childNoLibrary = 3

// openWithoutPreflight hands path to ONNX Runtime, skipping the
// pre-flight, in a child process; it reports how the child ended.
func openWithoutPreflight(t *testing.T, path string) (out string, crashed bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), rawChildEnv+"="+path)
	b, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return strings.TrimSpace(string(b)), false
	case !errors.As(err, &exit):
		t.Fatalf("starting the child for %s: %v", path, err)
	case exit.ExitCode() == childNoLibrary:
		t.Fatalf("the child for %s: %s", path, b)
	}
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return fmt.Sprintf("killed by %v", ws.Signal()), true
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "SIG") || strings.HasPrefix(line, "fatal error") {
			return "dead: " + line, true
		}
	}
	return fmt.Sprintf("dead (%v)", err), true
}

func saveModel(t *testing.T, mp *onnx.ModelProto, path string) {
	t.Helper()
	if err := (&onnx.Model{Proto: mp}).Save(path); err != nil {
		t.Fatal(err)
	}
}

// TestPreflightRefusesCrashers opens the malformed models: Open
// refuses each with a one-line error, and where ONNX Runtime, given the
// model directly, dies (a stride of 0: SIGFPE), the log says so.
func TestPreflightRefusesCrashers(t *testing.T) {
	needORT(t)
	src, err := onnx.Load(filepath.Join(models, "fmnist_cnn.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for i, test := range []struct {
		op, attr string
		elem     int
		value    int64
	}{
		{"Conv", "strides", 0, 0}, {"Conv", "strides", 0, -1}, {"MaxPool", "strides", 0, 0},
		{"Conv", "pads", 0, 1 << 62}, {"Conv", "pads", 0, 1 << 31}, {"MaxPool", "pads", 0, 1 << 62},
		{"MaxPool", "kernel_shape", 0, -1}, {"MaxPool", "kernel_shape", 0, 0},
		{"Conv", "dilations", 0, 0}, {"Conv", "group", -1, 0},
	} {
		mu, ok := mutate.Find(src.Proto, test.op, test.attr, test.elem, test.value)
		if !ok {
			t.Fatalf("fmnist_cnn has no %s %s", test.op, test.attr)
		}
		path := filepath.Join(dir, fmt.Sprintf("m%d.onnx", i))
		saveModel(t, mu.Apply(src.Proto), path)
		s, err := Open(path, cpuOpts())
		if err == nil {
			s.Close()
			t.Errorf("%v: Open succeeded", mu)
			continue
		}
		if !errors.Is(err, onnx.ErrInvalid) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), test.attr) {
			t.Errorf("%v: %v, want a one-line ErrInvalid naming %s", mu, err, test.attr)
		}
		if out, crashed := openWithoutPreflight(t, path); crashed {
			t.Logf("%v: without the pre-flight ONNX Runtime is %s", mu, out)
		}
	}
	path := filepath.Join(dir, "huge.onnx")
	saveModel(t, mutate.InputDims(src.Proto, 1, 1000000, 1000000), path)
	if _, err := Open(path, cpuOpts()); !errors.Is(err, interp.ErrTooLarge) {
		t.Errorf("input 1×1000000×1000000: %v, want ErrTooLarge", err)
	}
}

// TestPreflightMutations hands ONNX Runtime, in a child process, every
// integer and float attribute mutation of real models that the pre-flight lets through:
// none may kill the process. What the pre-flight refuses never reaches it.
func TestPreflightMutations(t *testing.T) {
	needORT(t)
	if testing.Short() {
		t.Skip("starts a process per mutation")
	}
	dir := t.TempDir()
	start := time.Now()
	for _, name := range []string{"fmnist_cnn", "resblock", "mobile", "dropout", "opset7_mlp", "normalized"} {
		src, err := onnx.Load(filepath.Join(models, name+".onnx"))
		if err != nil {
			t.Fatal(err)
		}
		passed, ran := 0, 0
		for i, mu := range append(mutate.Attrs(src.Proto), mutate.FloatAttrs(src.Proto)...) {
			mp := mu.Apply(src.Proto)
			if _, err := interp.Preflight(&onnx.Model{Proto: mp, Dir: dir}, &interp.Options{MaxMemory: 256 << 20}); err != nil {
				continue
			}
			passed++
			path := filepath.Join(dir, fmt.Sprintf("%s.%d.onnx", name, i))
			saveModel(t, mp, path)
			out, crashed := openWithoutPreflight(t, path)
			if crashed {
				t.Errorf("%s: %v passes the pre-flight, and ONNX Runtime is %s", name, mu, out)
			} else if out != "ran" {
				t.Logf("%s: %v: %s", name, mu, out)
			}
			if out == "ran" {
				ran++
			}
		}
		t.Logf("%s: %d mutations pass the pre-flight; ONNX Runtime runs %d of them, refuses the rest", name, passed, ran)
	}
	t.Logf("%v", time.Since(start).Round(time.Millisecond))
}

// TestExternalDataSymlinkRefused opens a model whose weights.bin is a
// symbolic link to a file outside its folder: Open refuses it with
// onnx.ErrOutsideFolder, while the same data inside the folder opens.
func TestExternalDataSymlinkRefused(t *testing.T) {
	needORT(t)
	src, err := onnx.Load(filepath.Join(models, "fmnist_cnn.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	mp, blob := mutate.ExternalData(src.Proto, "weights.bin")
	dir, elsewhere := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, elsewhere} {
		saveModel(t, mp, filepath.Join(d, "model.onnx"))
	}
	if err := os.WriteFile(filepath.Join(elsewhere, "weights.bin"), blob, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(filepath.Join(elsewhere, "model.onnx"), cpuOpts())
	if err != nil {
		t.Fatalf("the model with its data beside it: %v", err)
	}
	s.Close()
	if err := os.Symlink(filepath.Join(elsewhere, "weights.bin"), filepath.Join(dir, "weights.bin")); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
	s, err = Open(filepath.Join(dir, "model.onnx"), cpuOpts())
	if err == nil {
		s.Close()
		t.Fatal("opened a model whose data links out of its folder")
	}
	if !errors.Is(err, onnx.ErrOutsideFolder) || strings.Contains(err.Error(), "\n") {
		t.Errorf("got %v, want one line wrapping onnx.ErrOutsideFolder", err)
	}
}

// TestOpenNeedsCheck checks that Open refuses Options without a Check
// before anything else, and that NoCheck hands a model to ONNX Runtime
// as it is.
func TestOpenNeedsCheck(t *testing.T) {
	needORT(t)
	path := filepath.Join("testdata", "mlp_dynamic.onnx")
	for _, opt := range []*Options{nil, {Library: testLib, Device: DeviceCPU}} {
		if s, err := Open(path, opt); !errors.Is(err, errNoCheck) {
			if s != nil {
				s.Close()
			}
			t.Errorf("Open with %+v: %v, want the error that no Check is set", opt, err)
		}
	}
	s, err := Open(path, &Options{Check: NoCheck, Library: testLib, Device: DeviceCPU})
	if err != nil {
		t.Fatalf("Open with NoCheck: %v", err)
	}
	defer s.Close()
	if _, _, err := s.Run(nil, make([]float32, s.sampleLen), 1); err != nil {
		t.Errorf("Run after Open with NoCheck: %v", err)
	}
}
