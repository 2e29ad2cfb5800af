// Loads every op family so the registry is complete before a graph is built.
import './elementwise';
import './linalg';
import './reduce';
import './tensor';
import './select';
