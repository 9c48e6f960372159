package report

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium returns the path of a headless-capable Chromium. Where there is
// none the test is skipped, unless ONNXGUARD_REQUIRE_CHROMIUM=1 (as CI
// sets it) makes that a failure.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ONNXGUARD_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("ONNXGUARD_REQUIRE_CHROMIUM=1 but no chromium on PATH: install Debian's chromium (scripts/setup.sh does)")
	}
	t.Skip("chromium is not installed, so report.html is not rendered in a browser: apt-get install chromium, or run scripts/setup.sh")
	return ""
}

// runChromium runs a headless Chromium on page with extra arguments and
// returns its standard output.
func runChromium(t *testing.T, bin, page string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
		"--disable-extensions", "--disable-dev-shm-usage", "--user-data-dir=" + t.TempDir()}, args...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+page)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	return out
}

// screenshot renders page at width×height pixels and returns the picture.
func screenshot(t *testing.T, bin, page string, width, height int) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "shot.png")
	runChromium(t, bin, page, "--screenshot="+shot, fmt.Sprintf("--window-size=%d,%d", width, height))
	return decodePNG(t, shot)
}

// inkStats returns the standard deviation of the luminance over the
// picture and the share of pixels that are not near white.
func inkStats(img image.Image) (stddev, ink float64) {
	b := img.Bounds()
	var sum, sq float64
	var inked int
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
			sum += l
			sq += l * l
			if l < 235 {
				inked++
			}
		}
	}
	n := float64(b.Dx() * b.Dy())
	mean := sum / n
	return math.Sqrt(max(0, sq/n-mean*mean)), float64(inked) / n
}

var tags = regexp.MustCompile(`(?s)<style.*?</style>|<[^>]*>`)

// domText renders page and returns the text of its DOM, tags removed.
func domText(t *testing.T, bin, page string) string {
	t.Helper()
	dom := string(runChromium(t, bin, page, "--dump-dom"))
	if !strings.Contains(dom, "</html>") {
		t.Fatalf("chromium --dump-dom printed no document: %.200q", dom)
	}
	return strings.Join(strings.Fields(tags.ReplaceAllString(dom, " ")), " ")
}

// checkRendered renders page at a desktop and a phone width, checks the
// screenshots are not blank, and that want appears in the DOM text.
func checkRendered(t *testing.T, page string, want []string) {
	bin := chromium(t)
	for _, size := range [][2]int{{1100, 2400}, {390, 2400}} {
		img := screenshot(t, bin, page, size[0], size[1])
		if b := img.Bounds(); b.Dx() != size[0] || b.Dy() != size[1] {
			t.Errorf("%d×%d screenshot is %d×%d", size[0], size[1], b.Dx(), b.Dy())
		}
		// A blank or error page is one flat colour; the report has
		// text, tables, bars and pictures.
		if sd, ink := inkStats(img); sd < 20 || ink < 0.03 {
			t.Errorf("%d px wide: screenshot looks blank: luminance deviation %.1f (want ≥ 20), %.1f%% inked (want ≥ 3%%)", size[0], sd, 100*ink)
		}
	}
	text := domText(t, bin, page)
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("the page rendered by chromium lacks %q in its text", s)
		}
	}
}

// TestHTMLInBrowser renders report.html with headless Chromium.
func TestHTMLInBrowser(t *testing.T) {
	dir := t.TempDir()
	r := testReport()
	if err := WriteDir(dir, r); err != nil {
		t.Fatal(err)
	}
	want := []string{"Robustness audit of fmnist_cnn.onnx", r.Model.SHA256, "clean 0 92.00%", "9 Ankle boot", warning}
	for _, res := range r.Results {
		want = append(want, fmt.Sprintf("%s %g %.2f%%", res.Name(), res.Eps, 100*res.Accuracy))
	}
	page := filepath.Join(dir, HTMLFile)
	checkRendered(t, page, want)

	// Printed to PDF, as a reviewer files it: a document of several A4
	// or Letter pages (the page holds two large pictures).
	pdf := filepath.Join(t.TempDir(), "report.pdf")
	runChromium(t, chromium(t), page, "--no-pdf-header-footer", "--print-to-pdf="+pdf)
	data, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	if pages := len(pdfPage.FindAll(data, -1)); !bytes.HasPrefix(data, []byte("%PDF-")) || pages < 2 {
		t.Errorf("printing report.html gave %d bytes, %d pages; want a PDF of at least 2 pages", len(data), pages)
	}
}

var pdfPage = regexp.MustCompile(`/Type\s*/Page\b`)
