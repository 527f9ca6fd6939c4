package portal

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"github.com/caddy-mfa/caddy-mfa/ui"
)

// qrSize is the width and height of a QR code image, in pixels (the
// pages show it at that size).
const qrSize = 200

// qrPalette is a QR code's two colours: the PNG has one bit a pixel.
var qrPalette = color.Palette{color.White, color.Black}

// writeQR answers with a 200×200 PNG QR code of content.
func (p *Portal) writeQR(q *request, content string) error {
	code, err := qr.Encode(content, qr.M, qr.Auto)
	if err != nil {
		return fmt.Errorf("drawing QR code: %w", err)
	}
	img, err := qrImage(code, qrSize)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("encoding QR code: %w", err)
	}
	ui.SecurityHeaders(q.w.Header())
	q.w.Header().Set("Content-Type", "image/png")
	_, err = q.w.Write(buf.Bytes())
	return err
}

// qrImage draws code size×size pixels as barcode.Scale does (each module
// a square of whole pixels, centred on white), but in a two-colour
// paletted image: barcode.Scale's image is 16-bit grey, read pixel by
// pixel through interfaces, which made the PNG cost several times what
// its drawing does.
func qrImage(code barcode.Barcode, size int) (*image.Paletted, error) {
	b := code.Bounds()
	w, h := b.Dx(), b.Dy()
	factor := min(size/w, size/h)
	if factor <= 0 {
		return nil, fmt.Errorf("drawing QR code: %d×%d modules do not fit in %d pixels", w, h, size)
	}
	img := image.NewPaletted(image.Rect(0, 0, size, size), qrPalette) // all white
	offX, offY := (size-w*factor)/2, (size-h*factor)/2
	for my := range h {
		for mx := range w {
			if c := color.GrayModel.Convert(code.At(b.Min.X+mx, b.Min.Y+my)).(color.Gray); c.Y >= 0x80 {
				continue
			}
			for y := offY + my*factor; y < offY+(my+1)*factor; y++ {
				row := img.Pix[y*img.Stride:]
				for x := offX + mx*factor; x < offX+(mx+1)*factor; x++ {
					row[x] = 1
				}
			}
		}
	}
	return img, nil
}
