package main

import (
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeImageFolder writes a class-per-folder data set of 3 classes with
// images of assorted sizes, grey PNGs, colour PNGs and colour JPEGs.
func writeImageFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	sizes := [][2]int{{20, 30}, {31, 17}, {8, 8}, {64, 40}}
	for c, class := range []string{"cat", "dog", "eel"} {
		sub := filepath.Join(dir, class)
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, s := range sizes {
			h, w := s[0], s[1]
			var img image.Image
			name := filepath.Join(sub, string(rune('a'+i)))
			switch (c + i) % 3 {
			case 0:
				g := image.NewGray(image.Rect(0, 0, w, h))
				for p := range g.Pix {
					g.Pix[p] = uint8(p*7 + c*50)
				}
				img, name = g, name+".png"
			default:
				rgb := image.NewRGBA(image.Rect(0, 0, w, h))
				for y := range h {
					for x := range w {
						rgb.Set(x, y, color.RGBA{uint8(x * 9), uint8(y * 5), uint8(c * 80), 255})
					}
				}
				img, name = rgb, name+".png"
				if (c+i)%3 == 2 {
					name = strings.TrimSuffix(name, ".png") + ".jpg"
				}
			}
			f, err := os.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(name, ".jpg") {
				err = jpeg.Encode(f, img, nil)
			} else {
				err = png.Encode(f, img)
			}
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
		}
	}
	return dir
}

// TestImageFolderFitsModel runs image folders of mixed sizes, grey and
// colour, through grey and colour models of several input sizes: the CLI
// reads the folder at the model's input size and channels.
func TestImageFolderFitsModel(t *testing.T) {
	data := writeImageFolder(t)
	models := t.TempDir()
	for _, input := range []string{"1x16x16", "3x16x16", "1x12x20", "3x9x7"} {
		model := filepath.Join(models, input+".onnx")
		if _, _, err := run("init", "--arch", "paper-simple", "--input", input, "--classes", "3", "--out", model); err != nil {
			t.Fatalf("init %s: %v", input, err)
		}
		stdout, _, err := run("eval", "-m", model, "-d", data, "--engine", "interp", "--json")
		if err != nil {
			t.Errorf("eval %s on the image folder: %v", input, err)
			continue
		}
		var got struct{ Samples int }
		if err := json.Unmarshal([]byte(stdout), &got); err != nil || got.Samples != 12 {
			t.Errorf("eval %s: %q (%v), want 12 samples", input, stdout, err)
		}
	}
	grey := filepath.Join(models, "1x16x16.onnx")
	for _, test := range []struct {
		args []string
		want string // "" for success
	}{
		{[]string{"--image-size", "16x16", "--channels", "1"}, ""},
		{[]string{"--image-size", "16"}, ""},
		{[]string{"--image-size", "20x16"}, "only the image size differs"},
		{[]string{"--channels", "3"}, "only the channels differ"},
		{[]string{"--channels", "2"}, "--channels 2"},
		{[]string{"--image-size", "0x5"}, "--image-size"},
		{[]string{"--image-size", "big"}, "--image-size"},
	} {
		args := append([]string{"eval", "-m", grey, "-d", data, "--engine", "interp", "--json"}, test.args...)
		_, _, err := run(args...)
		switch {
		case test.want == "" && err != nil:
			t.Errorf("%v: %v", test.args, err)
		case test.want != "" && (err == nil || !strings.Contains(err.Error(), test.want)):
			t.Errorf("%v: error %v, want one containing %q", test.args, err, test.want)
		}
	}
}
