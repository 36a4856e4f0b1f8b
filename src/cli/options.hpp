// Shared Boost.Program_options handling for the subcommands.
#pragma once

#include <boost/program_options.hpp>

#include <string>

namespace tomosweep::cli {

namespace po = boost::program_options;

/// Parse argv of a subcommand with named options and positional arguments. Prints help and returns
/// false when --help was given; throws tomosweep::Error on bad options (one line, naming the option).
bool parse_options(int argc, char** argv, const std::string& usage, po::options_description& named,
                   const po::positional_options_description& positional, po::variables_map& vm);

/// A memory size in bytes: a positive number with an optional unit K, M, G or T (powers of 1024; "B" may follow,
/// e.g. "180M", "4G", "512MB", "1.5G"); plain numbers are bytes. Error "OPTION: ..." naming the option otherwise.
double parse_memory_size(const std::string& option, const std::string& text);

} // namespace tomosweep::cli
