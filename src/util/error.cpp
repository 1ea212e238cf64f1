#include "util/error.hpp"
