package ops

import "fmt"

func init() { register("SpaceToDepth", 1, newSpaceToDepth) }

// newSpaceToDepth is DepthToSpace's inverse in DCR order: each b×b block
// of pixels becomes b·b channels, block row major, ahead of the channel.
func newSpaceToDepth(n *Node) (Op, error) {
	b, err := n.Int("blocksize", 0)
	if err != nil {
		return nil, err
	}
	return newBlockShuffle(b, func(x []int, b int) ([]int, []int, []int, error) {
		h, w := x[2]/b, x[3]/b
		if h*b != x[2] || w*b != x[3] {
			return nil, nil, nil, fmt.Errorf("height %d and width %d do not divide into blocks of %d×%d", x[2], x[3], b, b)
		}
		return []int{x[0], x[1], h, b, w, b}, []int{0, 3, 5, 1, 2, 4}, []int{x[0], x[1] * b * b, h, w}, nil
	})
}
