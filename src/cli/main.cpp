#include <cstdio>
int main() { std::puts("tomosweep"); return 0; }
