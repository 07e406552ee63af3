#!/usr/bin/env bash
# Real inputs for calibrating and checking compressed models (bench/compress.sh), from Debian
# packages unpacked without installing them (apt-get download + dpkg -x), once:
#   DIR/photos/  scenes with COCO objects: darknet's samples, scikit-image's astronaut, coffee,
#                chelsea, motorcycle and rocket, OpenCV's messi5, building, fruits, baboon,
#                home and basketball1, and 12 frames of OpenCV's vtest.avi (pedestrians)
#   DIR/faces/   150x150 face crops: 12 frames of OpenCV's Megamind.avi, the astronaut, Messi
#                and darknet's person
#   DIR/text/    OpenCV's scene-text and printed-text images, for the OCR detector
#   DIR/unseen/  detector inputs none of the above shares, for `compress --eval`: 20 frames of
#                vtest.avi at 3, 7, ..., 79 s (the photos' are at 0, 6, ..., 66 s) and OpenCV's
#                basketball2, aero3, butterfly, apple, orange, licenseplate_motion and pic1
# Usage: bench/compress_data.sh [DIR] (default build/assets/compress). Needs ffmpeg (frames,
# crops), which scripts/setup.sh installs.
set -euo pipefail
DIR="${1:-build/assets/compress}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
[ -f "$DIR/.complete" ] && [ -d "$DIR/unseen" ] && exit 0

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# As root, apt warns that its sandbox user cannot write the folder; the download still works.
(cd "$tmp" && apt-get download darknet opencv-doc python3-skimage >/dev/null 2>&1)
for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$tmp/x"; done
DARKNET="$tmp/x/usr/share/darknet/data"
OPENCV="$tmp/x/usr/share/doc/opencv-doc/examples/data"
TEXT="$tmp/x/usr/share/doc/opencv-doc/examples/text"
SKIMAGE="$(dirname "$(find "$tmp/x" -path '*skimage/data/astronaut.png' | head -1)")"

mkdir -p "$DIR/photos" "$DIR/faces" "$DIR/text" "$DIR/unseen"
cp "$DARKNET"/{dog,eagle,giraffe,horses,kite,person}.jpg "$DIR/photos/"
cp "$SKIMAGE"/{astronaut,coffee,chelsea,motorcycle_left}.png "$SKIMAGE/rocket.jpg" "$DIR/photos/"
cp "$OPENCV"/{messi5,building,fruits,baboon,home}.jpg "$OPENCV/basketball1.png" "$DIR/photos/"
frame() {  # frame VIDEO SECONDS FILTER OUT
  ffmpeg -loglevel error -y -ss "$2" -i "$1" -frames:v 1 -vf "$3" "$4"
}
for i in $(seq 0 11); do
  frame "$OPENCV/vtest.avi" $((i * 6)) null "$DIR/photos/vtest_$i.png"
done
# Megamind.avi is 11 s long: a frame every 0.9 s, the square middle of each, face-sized.
for i in $(seq 0 11); do
  frame "$OPENCV/Megamind.avi" "$(awk -v i="$i" 'BEGIN { printf "%.1f", i * 0.9 }')" \
    "crop=ih:ih,scale=150:150" "$DIR/faces/megamind_$i.png"
done
crop() { ffmpeg -loglevel error -y -i "$1" -vf "crop=$2,scale=150:150" "$3"; }
crop "$SKIMAGE/astronaut.png" 200:200:160:20 "$DIR/faces/astronaut.png"
crop "$OPENCV/messi5.jpg" 110:110:190:20 "$DIR/faces/messi.png"
crop "$DARKNET/person.jpg" 90:90:190:70 "$DIR/faces/person.png"
cp "$OPENCV"/imageText{N,R}.png "$TEXT"/scenetext0*.jpg "$DIR/text/"
for i in $(seq 0 19); do
  frame "$OPENCV/vtest.avi" $((3 + i * 4)) null "$DIR/unseen/vtest_$i.png"
done
cp "$OPENCV"/{basketball2.png,aero3.jpg,butterfly.jpg,apple.jpg,orange.jpg} "$DIR/unseen/"
cp "$OPENCV"/{licenseplate_motion.jpg,pic1.png} "$DIR/unseen/"
touch "$DIR/.complete"
echo "compress_data: $(ls "$DIR/photos" | wc -l) photos, $(ls "$DIR/faces" | wc -l) faces," \
  "$(ls "$DIR/text" | wc -l) text images, $(ls "$DIR/unseen" | wc -l) unseen in $DIR"
