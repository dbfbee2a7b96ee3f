// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// Fixture lending vault for firebreak's tests, drills and demo.
///
/// Lenders deposit the asset and receive shares 1:1. Borrowers post ETH as
/// collateral, valued at `ethPrice` (asset units per ETH), and may borrow up to
/// 80 % of it. PAUSER_ROLE (a guardian or a Safe) pauses; only the admin unpauses.
///
/// DELIBERATE FLAW, for drills: `setPrice` has no access control, so anyone can
/// inflate the collateral price and borrow the whole vault in one transaction —
/// the oracle-manipulation pattern behind many real lending exploits.
contract LendingVault is ERC20, Pausable, AccessControl {
    using SafeERC20 for IERC20;

    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    IERC20 public immutable asset;
    uint256 public ethPrice;
    mapping(address => uint256) public collateralOf;
    mapping(address => uint256) public debtOf;

    event Deposit(address indexed account, uint256 amount);
    event Withdraw(address indexed account, uint256 amount);
    event Borrow(address indexed account, uint256 amount, uint256 collateral);
    event Repay(address indexed account, uint256 amount);
    event PriceUpdated(address indexed by, uint256 oldPrice, uint256 newPrice);

    error InsufficientCollateral(uint256 limit, uint256 requested);

    constructor(IERC20 asset_, address admin, address pauser, uint256 price)
        ERC20("Acme Vault Share", "avUSDC")
    {
        asset = asset_;
        ethPrice = price;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, pauser);
    }

    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function totalAssets() external view returns (uint256) {
        return asset.balanceOf(address(this));
    }

    function deposit(uint256 amount) external whenNotPaused {
        asset.safeTransferFrom(msg.sender, address(this), amount);
        _mint(msg.sender, amount);
        emit Deposit(msg.sender, amount);
    }

    function withdraw(uint256 amount) external whenNotPaused {
        _burn(msg.sender, amount);
        asset.safeTransfer(msg.sender, amount);
        emit Withdraw(msg.sender, amount);
    }

    function borrow(uint256 amount) external payable whenNotPaused {
        collateralOf[msg.sender] += msg.value;
        uint256 limit = (collateralOf[msg.sender] * ethPrice / 1e18) * 80 / 100;
        if (debtOf[msg.sender] + amount > limit) {
            revert InsufficientCollateral(limit, debtOf[msg.sender] + amount);
        }
        debtOf[msg.sender] += amount;
        asset.safeTransfer(msg.sender, amount);
        emit Borrow(msg.sender, amount, collateralOf[msg.sender]);
    }

    function repay(uint256 amount) external whenNotPaused {
        asset.safeTransferFrom(msg.sender, address(this), amount);
        debtOf[msg.sender] -= amount;
        emit Repay(msg.sender, amount);
    }

    /// The flaw: should be restricted to an oracle role.
    function setPrice(uint256 price) external {
        emit PriceUpdated(msg.sender, ethPrice, price);
        ethPrice = price;
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(DEFAULT_ADMIN_ROLE) {
        _unpause();
    }
}
