"""Reading the letter's QR code back, as a phone camera would: zxing-cpp (pip
``zxing-cpp``, a wheel with no system library) on a bitmap of the code.

The bitmap is drawn from the inline SVG the page carries (segno's single path of
horizontal strokes, one module high), or decoded from a browser's PNG screenshot."""

import re
import struct
import zlib

import zxingcpp

SVG = re.compile(r'<svg[^>]*class="app-letter-qr-code"[^>]*>.*?</svg>', re.S)
_VIEWBOX = re.compile(r'viewBox="0 0 (\d+) (\d+)"')
_PATH = re.compile(r'<path[^>]*stroke=[^>]*\sd="([^"]+)"')
_STEP = re.compile(r"([Mmh])\s*(-?[\d.]+)(?:[ ,]+(-?[\d.]+))?")


def svg_bitmap(svg: str, scale: int = 6) -> tuple[bytes, int, int]:
    """A grayscale bitmap (0 black, 255 white) of segno's inline SVG."""
    width, height = (int(v) for v in _VIEWBOX.search(svg).groups())
    dark = set()
    x = y = 0.0
    for command, a, b in _STEP.findall(_PATH.search(svg).group(1)):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:  # h: a stroke one module high, centred on y
            for column in range(round(x), round(x + float(a))):
                dark.add((column, int(y)))
            x += float(a)
    w, h = width * scale, height * scale
    pixels = bytearray(b"\xff" * (w * h))
    for column, row in dark:
        for dy in range(scale):
            start = (row * scale + dy) * w + column * scale
            pixels[start:start + scale] = b"\x00" * scale
    return bytes(pixels), w, h


def decode_gray(pixels: bytes, width: int, height: int) -> list[str]:
    image = memoryview(pixels).cast("B", (height, width))
    return [code.text for code in zxingcpp.read_barcodes(image)]


def decode_svg(svg: str) -> list[str]:
    return decode_gray(*svg_bitmap(svg))


def decode_png(png: bytes) -> list[str]:
    """The QR codes in a PNG (8-bit RGB or RGBA, not interlaced: chromium's screenshots)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    previous = bytearray(stride)
    gray = bytearray(width * height)
    offset = 0
    for row in range(height):
        kind = raw[offset]
        line = bytearray(raw[offset + 1:offset + 1 + stride])
        offset += 1 + stride
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        for column in range(width):
            r, g, b = line[column * channels:column * channels + 3]
            gray[row * width + column] = (r * 299 + g * 587 + b * 114) // 1000
        previous = line
    return decode_gray(bytes(gray), width, height)
