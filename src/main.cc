#include "cli/app.h"

int main(int argc, char** argv) { return convcorr::cli::Main(argc, argv); }
