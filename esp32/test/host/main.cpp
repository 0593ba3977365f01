#include "mini_test.h"

int main() { return mini::run(); }
