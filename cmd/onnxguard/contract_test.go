package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/onnxguard/onnxguard/internal/testort"
)

// snapshot maps every file under dir to a digest of its content and mode.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		sum := ""
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum = fmt.Sprintf("%x", sha256.Sum256(data))
		}
		files[path] = fmt.Sprintf("%v %s", info.Mode(), sum)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// contractFixtures fills the working folder with the inputs the bad
// command lines use: a model, data, a good and an impossible shard report,
// hostile data files.
func contractFixtures(t *testing.T) {
	t.Helper()
	model, images := "testdata/models/fmnist_cnn.onnx", "testdata/fashion/t10k-images-1000-idx3-ubyte.gz"
	copyFile(t, model, "model.onnx")
	copyFile(t, model, "other.onnx")
	copyFile(t, images, "t10k-images-idx3-ubyte.gz")
	copyFile(t, strings.Replace(images, "images-1000-idx3", "labels-1000-idx1", 1), "t10k-labels-idx1-ubyte.gz")
	if err := os.Symlink("model.onnx", "link.onnx"); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"outdir", "shard", "bad", "pngs/cat"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := run("audit", "-m", "model.onnx", "-d", "t10k-images-idx3-ubyte.gz", "--limit", "16", "--attacks", "fgsm",
		"--eps", "0.1", "--engine", "interp", "--report", "shard"); err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	data, _ := os.ReadFile("shard/report.json")
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	r["clean_correct"] = 10000
	data, _ = json.Marshal(r)
	os.WriteFile("bad/report.json", data, 0o644)
	os.WriteFile("file.txt", []byte("a file, not a folder"), 0o644)
	header := "{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }"
	header += strings.Repeat(" ", 63-(10+len(header))%64) + "\n"
	str := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), 0)
	os.WriteFile("strings.npy", append(append(str, header...), make([]byte, 40)...), 0o644)
	os.WriteFile("broken.npy", []byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'"), 0o644)
	header = "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 1, 28, 28), }"
	header += strings.Repeat(" ", 63-(10+len(header))%64) + "\n"
	empty := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), 0)
	os.WriteFile("empty.npy", append(empty, header...), 0o644)
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 1, 1)))
	b := buf.Bytes()
	binary.BigEndian.PutUint32(b[16:], 30000)
	binary.BigEndian.PutUint32(b[20:], 30000)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
	os.WriteFile("pngs/cat/huge.png", b, 0o644)
}

// TestCLIContract runs every command with bad input and checks the
// contract of a failure: a status that is neither 0 nor the gate's 3,
// exactly one line on stderr, nothing on stdout, and no file created,
// changed or removed.
func TestCLIContract(t *testing.T) {
	testort.Need(t) // some cases reach ONNX Runtime's library lookup
	dir := inRepoCopy(t)
	contractFixtures(t)
	m, d := []string{"-m", "model.onnx"}, []string{"-d", "t10k-images-idx3-ubyte.gz"}
	md := append(append([]string(nil), m...), d...)
	with := func(cmd string, base []string, extra ...string) []string {
		return append(append([]string{cmd}, base...), extra...)
	}
	cases := [][]string{
		{"frob"},
		{"help", "frob"},
		{"report", "frob"},
		{"--no-such-flag"},
		// inspect
		{"inspect"},
		{"inspect", "-m", "absent.onnx"},
		{"inspect", "-m", "file.txt"},
		{"inspect", "-m", "model.onnx", "--bogus"},
		// eval
		{"eval"},
		{"eval", "-m", "model.onnx"},
		with("eval", md, "--batch", "0"),
		with("eval", md, "--batch", "x"),
		with("eval", md, "--limit", "-1"),
		with("eval", md, "--threads", "-2"),
		with("eval", md, "--input-scale", "nan"),
		with("eval", md, "--input-scale", "0"),
		with("eval", md, "--input-scale", "-Inf"),
		with("eval", md, "--mean", "nan"),
		with("eval", md, "--mean", "0.1,,0.2"),
		with("eval", md, "--mean", "0.1,0.2"),
		with("eval", md, "--std", "-1"),
		with("eval", md, "--std", "0"),
		with("eval", md, "--engine", "tpu"),
		with("eval", md, "--device", "tpu"),
		with("export", m, "--checkpoint", "shard", "--out", "e.onnx", "--device", "gpu"),
		with("eval", md, "--channels", "2"),
		with("eval", md, "--image-size", "x"),
		with("eval", m, "-d", "absent.gz"),
		with("eval", m, "-d", "strings.npy"),
		with("eval", m, "-d", "broken.npy"),
		with("eval", m, "-d", "empty.npy"),
		with("eval", m, "-d", "pngs", "--engine", "interp"),
		with("eval", m, "-d", "pngs", "-l", "empty.npy"),
		// predict
		with("predict", md),
		with("predict", md, "--out", "model.onnx"),
		with("predict", md, "--out", "link.onnx"),
		with("predict", md, "--out", "other.onnx"),
		with("predict", md, "--out", "outdir"),
		with("predict", md, "--out", "nofolder/x.npy"),
		with("predict", md, "--out", "t10k-images-idx3-ubyte.gz"),
		// attack
		with("attack", md, "--eps", "nan"),
		with("attack", md, "--eps", "0"),
		with("attack", md, "--eps", "1.5"),
		with("attack", md, "--method", "pgd", "--steps", "0"),
		with("attack", md, "--method", "pgd", "--restarts", "0"),
		with("attack", md, "--method", "bim", "--alpha", "inf"),
		with("attack", md, "--method", "mifgsm", "--momentum", "nan"),
		with("attack", md, "--method", "cw"),
		with("attack", md, "--steps", "5"),
		with("attack", md, "--target", "cat"),
		with("attack", md, "--shard", "0/3"),
		with("attack", md, "--out", "model.onnx"),
		with("attack", md, "--out", "other.onnx"),
		with("attack", md, "--png-dir", "file.txt"),
		// audit
		with("audit", md, "--eps", "0.1,,0.2"),
		with("audit", md, "--eps", "nan"),
		with("audit", md, "--attacks", "fgsm,,pgd"),
		with("audit", md, "--attacks", "fgsm,zoo"),
		with("audit", md, "--fail-under", "nan"),
		with("audit", md, "--fail-under", "150"),
		with("audit", md, "--examples", "-1"),
		with("audit", md, "--report", "file.txt"),
		// report merge
		{"report", "merge"},
		{"report", "merge", "bad"},
		{"report", "merge", "shard", "--out", "shard"},
		{"report", "merge", "shard", "--out", "file.txt"},
		{"report", "merge", "model.onnx"},
		{"report", "merge", "shard", "--fail-under", "2"},
		// harden
		with("harden", md),
		with("harden", md, "--out", "model.onnx"),
		with("harden", md, "--out", "link.onnx"),
		with("harden", md, "--out", "./model.onnx"),
		with("harden", md, "--out", filepath.Join(dir, "model.onnx")),
		with("harden", md, "--out", "outdir"),
		with("harden", md, "--out", "h.onnx", "--epochs", "0"),
		with("harden", md, "--out", "h.onnx", "--lr", "nan"),
		with("harden", md, "--out", "h.onnx", "--lr", "0"),
		with("harden", md, "--out", "h.onnx", "--eps", "nan"),
		with("harden", md, "--out", "h.onnx", "--eps", "0"),
		with("harden", md, "--out", "h.onnx", "--optimizer", "sgd", "--momentum", "-1"),
		with("harden", md, "--out", "h.onnx", "--weight-decay", "nan"),
		with("harden", md, "--out", "h.onnx", "--val-split", "1"),
		with("harden", md, "--out", "h.onnx", "--val-limit", "-1"),
		with("harden", md, "--out", "h.onnx", "--recipe", "pgd", "--pgd-steps", "0"),
		with("harden", md, "--out", "h.onnx", "--recipe", "magic"),
		with("harden", md, "--out", "h.onnx", "--checkpoint-dir", "file.txt"),
		// export
		with("export", m, "--checkpoint", "shard", "--out", "model.onnx"),
		with("export", m, "--checkpoint", "absent", "--out", "e.onnx"),
		with("export", m, "--checkpoint", "shard", "--out", "e.onnx", "--threads", "-1"),
		with("export", m, "--out", "e.onnx"),
		// init
		{"init", "--arch", "paper-simple", "--out", "outdir"},
		{"init", "--arch", "paper-simple", "--out", "i.onnx", "--classes", "1"},
		{"init", "--arch", "paper-simple", "--out", "i.onnx", "--input", "0x1x1"},
		{"init", "--arch", "nope", "--out", "i.onnx"},
		{"init", "--arch", "paper-simple"},
	}
	for _, args := range cases {
		before := snapshot(t, dir)
		var stdout, stderr bytes.Buffer
		code := runMain(append([]string{"onnxguard"}, args...), &stdout, &stderr)
		name := strings.Join(args, " ")
		if testing.Verbose() {
			t.Logf("%s → %d %s", name, code, strings.TrimSpace(stderr.String()))
		}
		if code == 0 || code == exitBelowThreshold {
			t.Errorf("%s: exit status %d, want non-zero and not %d", name, code, exitBelowThreshold)
		}
		if stdout.Len() != 0 {
			t.Errorf("%s: printed %q on stdout, want nothing", name, stdout.String())
		}
		if lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); len(lines) != 1 || lines[0] == "" {
			t.Errorf("%s: stderr %q, want exactly one line", name, stderr.String())
		} else if strings.Contains(lines[0], "panic") || strings.Contains(lines[0], "Options.") {
			t.Errorf("%s: stderr %q", name, lines[0])
		}
		after := snapshot(t, dir)
		for p, s := range after {
			if before[p] != s {
				t.Errorf("%s: %s was created or changed", name, p)
			}
		}
		for p := range before {
			if _, ok := after[p]; !ok {
				t.Errorf("%s: %s was removed", name, p)
			}
		}
	}
}

// TestReportMergeFlagsAfterDirs runs report merge as its help writes it,
// flags after the shard folders.
func TestReportMergeFlagsAfterDirs(t *testing.T) {
	inRepoCopy(t)
	var dirs []string
	for k := 1; k <= 3; k++ {
		d := fmt.Sprintf("shard%d", k)
		if _, _, err := run("audit", "-m", "testdata/models/fmnist_cnn.onnx", "-d", "testdata/fashion/t10k-images-1000-idx3-ubyte.gz",
			"--limit", "30", "--attacks", "fgsm", "--eps", "0.1", "--engine", "interp", "--shard", fmt.Sprintf("%d/3", k), "--report", d); err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d+"/")
	}
	var stdout, stderr bytes.Buffer
	code := runMain(append(append([]string{"onnxguard", "report", "merge"}, dirs...), "--out", "audit/", "--json"), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("report merge %v --out audit/ --json: status %d, %s", dirs, code, stderr.String())
	}
	var r struct{ Samples int }
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || r.Samples != 90 {
		t.Errorf("merged report %q (%v), want 90 samples (30 of each shard)", stdout.String(), err)
	}
	if _, err := os.Stat("audit/report.json"); err != nil {
		t.Errorf("--out after the folders was not honoured: %v", err)
	}
}
