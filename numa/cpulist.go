package numa

import (
	"errors"
	"strconv"
	"strings"
)

// maxListCPU bounds CPU and node numbers read from sysfs lists, so that a
// corrupt or hostile file cannot make us allocate without limit.
const maxListCPU = 1 << 16

var errBadList = errors.New("numa: malformed cpu list")

// parseList parses a sysfs CPU or node list such as "0-3,8,10-11" (empty
// means none) into ascending, de-duplicated numbers.
func parseList(s string) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []int
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil || a < 0 || a >= maxListCPU {
			return nil, errBadList
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a || b >= maxListCPU {
				return nil, errBadList
			}
		}
		if len(out)+b-a >= maxListCPU {
			return nil, errBadList
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return normList(out), nil
}

// normList sorts xs and removes duplicates in place.
func normList(xs []int) []int {
	if len(xs) < 2 {
		return xs
	}
	sorted := true
	for i := 1; i < len(xs); i++ {
		if xs[i] <= xs[i-1] {
			sorted = false
			break
		}
	}
	if sorted {
		return xs
	}
	insertionSort(xs)
	out := xs[:1]
	for _, x := range xs[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}

func insertionSort(xs []int) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

// FormatList formats ascending CPU or node numbers in the sysfs list form,
// for example "0-3,8".
func FormatList(xs []int) string {
	var b []byte
	for i := 0; i < len(xs); {
		j := i
		for j+1 < len(xs) && xs[j+1] == xs[j]+1 {
			j++
		}
		if len(b) > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(xs[i]), 10)
		if j > i {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(xs[j]), 10)
		}
		i = j + 1
	}
	return string(b)
}

func contains(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// minus returns the members of a that are not in b.
func minus(a, b []int) []int {
	var out []int
	for _, x := range a {
		if !contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}
