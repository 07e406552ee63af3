#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <sstream>
#include <vector>

#include "supernova/commands.h"
#include "supernova/version.h"

namespace supernova::tools {

int Fail(const std::string& message) {
  std::fprintf(stderr, "supernova: error: %s\n", message.c_str());
  return 1;
}

void AddImageFlags(CLI::App* cmd, std::string* preprocess, std::string* size, bool* bgr) {
  cmd->add_option("--preprocess", *preprocess,
                  "image normalisation (required for images): raw (0-255), unit (0-1), signed "
                  "(-1..1), imagenet, paddle");
  cmd->add_option("--size", *size, "HxW for image inputs whose model size is dynamic");
  cmd->add_flag("--bgr", *bgr, "feed images as BGR instead of RGB");
}

std::vector<std::string> SplitCommaList(const std::string& text) {
  std::vector<std::string> items;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ','))
    if (!item.empty()) items.push_back(item);
  return items;
}

int CommandLineMain(int argc, char** argv, std::initializer_list<AddCommand> commands,
                    const char* implied) {
  CLI::App app{"Supernova: ONNX inference for edge devices", "supernova"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "supernova " SUPERNOVA_VERSION);
  int exit_code = 0;
  for (AddCommand add : commands) add(app, &exit_code);
  std::vector<char*> args(argv, argv + argc);
  if (implied && (argc < 2 || std::strcmp(argv[1], implied) != 0))
    args.insert(args.begin() + 1, const_cast<char*>(implied));
  try {
    app.parse(static_cast<int>(args.size()), args.data());
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::bad_alloc&) {
    return Fail("out of memory");
  } catch (const std::exception& e) {
    return Fail(e.what());
  }
  return exit_code;
}

}  // namespace supernova::tools
