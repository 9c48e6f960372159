package dataset

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"regexp"
	"strconv"
	"strings"
)

// The .npy format (NumPy's format.py): the magic string, a version, the
// header's length (2 bytes in version 1, 4 in 2 and 3), and the header, a
// Python dict literal with 'descr', 'fortran_order' and 'shape', padded
// with spaces and ended by a newline; then the data. The header is parsed
// here, with every length checked against the file, so that no header can
// make the reader allocate more than the file holds or fail in a way
// other than an error.

// npyDtype is an element type: code is the kind letter and size in bytes
// ("f4", "u1"), name NumPy's name for people.
type npyDtype struct {
	descr, code, name string
	size              int
	order             binary.ByteOrder
}

var (
	npyDescr   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyFortran = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShape   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
	npyCode    = regexp.MustCompile(`^([<>|=]?)([a-zA-Z])(\d*)$`)
)

// npyKinds names the kind letters of NumPy's array-protocol type strings.
var npyKinds = map[byte]string{'f': "float", 'i': "int", 'u': "uint", 'b': "bool", 'c': "complex",
	'U': "unicode string", 'S': "byte string", 'a': "byte string", 'O': "Python object", 'V': "raw bytes", 'M': "datetime", 'm': "timedelta"}

func parseDtype(descr string) (npyDtype, error) {
	m := npyCode.FindStringSubmatch(descr)
	if m == nil {
		return npyDtype{}, fmt.Errorf("dtype %q is not a plain NumPy type (structured arrays are not supported); want float32 or uint8 images, integer labels", descr)
	}
	kind, ok := npyKinds[m[2][0]]
	if !ok {
		return npyDtype{}, fmt.Errorf("dtype %q is unknown; want float32 or uint8 images, integer labels", descr)
	}
	size, err := strconv.Atoi(m[3])
	if err != nil || size < 1 || size > 16 {
		return npyDtype{}, fmt.Errorf("dtype %q (%s) is not supported; want float32 or uint8 images, integer labels", descr, kind)
	}
	d := npyDtype{descr: descr, code: m[2] + m[3], name: kind, size: size, order: binary.LittleEndian}
	switch m[2] {
	case "f", "i", "u", "c":
		d.name += strconv.Itoa(8 * size)
	}
	if m[1] == ">" {
		d.order = binary.BigEndian
	}
	return d, nil
}

// parseNPY checks a whole .npy file and returns its array.
func parseNPY(data []byte) (*npyArray, error) {
	const magic = "\x93NUMPY"
	if len(data) < 10 || string(data[:6]) != magic {
		return nil, errors.New("not a NumPy .npy file (no \\x93NUMPY magic string)")
	}
	var hlen, start int
	switch major := data[6]; major {
	case 1:
		hlen, start = int(binary.LittleEndian.Uint16(data[8:10])), 10
	case 2, 3:
		if len(data) < 12 {
			return nil, errors.New("not a NumPy .npy file: the header is cut short")
		}
		hlen, start = int(binary.LittleEndian.Uint32(data[8:12])), 12
	default:
		return nil, fmt.Errorf("not a NumPy .npy file of a known version (major version %d; want 1, 2 or 3)", major)
	}
	if hlen > len(data)-start {
		return nil, fmt.Errorf("malformed .npy header: it declares %d bytes but the file holds %d after the length", hlen, len(data)-start)
	}
	header := string(data[start : start+hlen])
	if !strings.HasPrefix(strings.TrimSpace(header), "{") || !strings.HasSuffix(strings.TrimSpace(header), "}") {
		return nil, errors.New("malformed .npy header: want a Python dict with 'descr', 'fortran_order' and 'shape'")
	}
	dm, fm, sm := npyDescr.FindStringSubmatch(header), npyFortran.FindStringSubmatch(header), npyShape.FindStringSubmatch(header)
	if dm == nil || fm == nil || sm == nil {
		return nil, errors.New("malformed .npy header: want a Python dict with 'descr', 'fortran_order' and 'shape'")
	}
	dtype, err := parseDtype(dm[1])
	if err != nil {
		return nil, err
	}
	if fm[1] == "True" {
		return nil, errors.New("array is in Fortran order; save it with numpy.ascontiguousarray")
	}
	shape, n, err := parseShape(sm[1])
	if err != nil {
		return nil, err
	}
	payload := data[start+hlen:]
	hi, lo := bits.Mul64(n, uint64(dtype.size))
	if hi != 0 || lo > uint64(len(payload)) {
		need := strconv.FormatUint(lo, 10)
		if hi != 0 {
			need = "more than 2^64"
		}
		return nil, fmt.Errorf("truncated: shape %v of %s needs %s data bytes but the file holds %d", shape, dtype.descr, need, len(payload))
	}
	return &npyArray{shape: shape, dtype: dtype, data: payload[:lo]}, nil
}

// parseShape reads the tuple of a header's shape, "3, 28, 28" or "10,",
// and the number of elements, saturated at 2^64-1.
func parseShape(tuple string) ([]int, uint64, error) {
	var shape []int
	n := uint64(1)
	fields := strings.Split(tuple, ",")
	for i, f := range fields {
		f = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "L"))
		if f == "" && i == len(fields)-1 {
			break
		}
		d, err := strconv.Atoi(f)
		if err != nil || d < 0 || d > math.MaxInt32 {
			return nil, 0, fmt.Errorf("malformed .npy header: shape %s is not a tuple of dimensions from 0 to 2^31-1", strconv.Quote("("+tuple+")"))
		}
		shape = append(shape, d)
		if hi, lo := bits.Mul64(n, uint64(d)); hi != 0 {
			n = math.MaxUint64
		} else {
			n = lo
		}
	}
	return shape, n, nil
}

// float32s returns elements lo to hi of a float32 array.
func (a *npyArray) float32s(lo, hi int) []float32 {
	v := make([]float32, hi-lo)
	for i := range v {
		v[i] = math.Float32frombits(a.dtype.order.Uint32(a.data[4*(lo+i):]))
	}
	return v
}

// ints returns the elements of an int64, int32 or uint8 array.
func (a *npyArray) ints() []int {
	n := len(a.data) / a.dtype.size
	v := make([]int, n)
	for i := range v {
		switch a.dtype.code {
		case "i8":
			v[i] = int(int64(a.dtype.order.Uint64(a.data[8*i:])))
		case "i4":
			v[i] = int(int32(a.dtype.order.Uint32(a.data[4*i:])))
		case "u1":
			v[i] = int(a.data[i])
		}
	}
	return v
}
