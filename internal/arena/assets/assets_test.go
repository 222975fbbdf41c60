package assets

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSprites(t *testing.T) {
	for name, size := range map[string][2]int{Ship: {48, 48}, Flame: {24, 16}, Particle: {16, 16}, Bullet: {12, 12}} {
		img, err := Sprite(name)
		require.NoError(t, err, name)
		assert.Equal(t, size[0], img.Bounds().Dx(), name)
		assert.Equal(t, size[1], img.Bounds().Dy(), name)
		_, _, _, a := img.At(size[0]/2, size[1]/2).RGBA()
		assert.NotZero(t, a, "%s is not empty in the middle", name)
	}
	_, err := Sprite("nope")
	assert.ErrorContains(t, err, `"nope"`)
}
