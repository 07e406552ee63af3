// The console's web page (src/console/web/*), compiled into the binary by
// cmake/embed_files.cmake so that the box serves it with no files, no network and no CDN.
#pragma once

#include <vector>

namespace supernova::console {

struct WebAsset {
  const char* name;  // file name: "index.html", "app.js", ...
  const char* text;
};

// Every file, in name order.
const std::vector<WebAsset>& WebAssets();

}  // namespace supernova::console
